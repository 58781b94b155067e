//! The source tree imports only downward, read from the code's own paths (`crate::`, `super::`,
//! and `nesmm::` in the binary):
//!
//! - the crate's top-level modules stand on the floors of the pipeline (score -> compile / synth /
//!   assembler -> formats -> rom -> learn -> viz -> cli), and a module names only modules on
//!   lower floors;
//! - inside `rom/` the rooms do the same (board and codec, then build, then nsf and export);
//! - no two files of `rom/` or `formats/` name each other, round about or directly.
//!
//! A path through a `pub use` of a `mod.rs` or `lib.rs` (the flat module paths `rom/mod.rs`
//! keeps, `crate::Error`) counts where it leads. Test code (after `#[cfg(test)]`, and `tests.rs` / `*_tests.rs` files) may
//! reach anywhere; a folder's `mod.rs` is its front door and not a node of the file graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Floors of the crate's top-level modules (`main` is the binary, on the CLI's floor).
const FLOORS: [(&str, u8); 17] = [
    ("error", 0),
    ("io", 1),
    ("region", 1),
    ("output_lock", 1),
    ("apu_stream", 2),
    ("score", 2),
    ("compile", 3),
    ("synth", 3),
    ("assembler", 3),
    ("formats", 4),
    ("rom", 5),
    ("learn", 6),
    ("output", 6),
    ("viz", 7),
    ("demo", 8),
    ("cli", 9),
    ("main", 9),
];

/// Floors of the rooms of `rom/`.
const ROM_ROOMS: [(&str, u8); 5] = [
    ("board", 0),
    ("codec", 0),
    ("build", 1),
    ("nsf", 2),
    ("export", 2),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The module path of a source file: `src/rom/codec/lz.rs` -> `[rom, codec, lz]`,
/// `src/rom/mod.rs` -> `[rom]`, `src/lib.rs` -> `[]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap_or(file);
    let mut segs: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
        segs.pop();
    }
    segs
}

/// The paths `code` names from the crate root: `crate::a::b`, `super::x` (from `module`, the
/// file's own module path), and `nesmm::a` when `extern_name` is set; each item of a `{...}`
/// group is a path of its own.
fn named_paths(code: &str, module: &[String], extern_name: bool) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in code.lines() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut roots: Vec<(usize, usize, Vec<String>)> = Vec::new();
        for (i, _) in line.match_indices("crate::") {
            roots.push((i, i + 7, Vec::new()));
        }
        if extern_name {
            for (i, _) in line.match_indices("nesmm::") {
                roots.push((i, i + 7, Vec::new()));
            }
        }
        for (i, _) in line.match_indices("super::") {
            if line[..i].ends_with("super::") {
                continue;
            }
            let mut base = module.to_vec();
            let mut at = i;
            while line[at..].starts_with("super::") {
                base.pop();
                at += 7;
            }
            roots.push((i, at, base));
        }
        for (i, start, base) in roots {
            if line[..i]
                .chars()
                .last()
                .is_some_and(|c| is_ident(c) || c == ':')
            {
                continue;
            }
            expand(&base, &line[start..], &mut found);
        }
    }
    found
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths `text` (what follows `prefix::`) names, `{a::b, c}` groups expanded.
fn expand(prefix: &[String], text: &str, found: &mut Vec<Vec<String>>) {
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut item_start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(prefix, &group[item_start..i], found);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, group[item_start..i].trim_start(), found);
                    item_start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let text = text.trim_start();
    let name: String = text.chars().take_while(|&c| is_ident(c)).collect();
    if name.is_empty() || name == "self" {
        if !prefix.is_empty() {
            found.push(prefix.to_vec());
        }
        return;
    }
    let mut path = prefix.to_vec();
    path.push(name.clone());
    match text[name.len()..].strip_prefix("::") {
        Some(rest) => expand(&path, rest, found),
        None => found.push(path),
    }
}

/// Where `file`'s `pub use` sends `name`: the full module path of the item it re-exports.
fn reexport(file: &Path, name: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file).ok()?;
    let module = module_path(file);
    let mut paths = Vec::new();
    for stmt in text.split(';') {
        let Some(at) = ["pub use ", "pub(crate) use "]
            .iter()
            .find_map(|k| stmt.find(k).map(|at| at + k.len()))
        else {
            continue;
        };
        let body: String = stmt[at..].split_whitespace().collect();
        let (base, body) = match body.strip_prefix("crate::") {
            Some(rest) => (Vec::new(), rest.to_string()),
            None => {
                let mut base = module.clone();
                let mut rest = body.as_str();
                while let Some(r) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = r;
                }
                (base, rest.to_string())
            }
        };
        expand(&base, &body, &mut paths);
    }
    paths
        .into_iter()
        .find(|p| p.last().is_some_and(|n| n == name))
}

/// The source file that holds what `path` (from the crate root) names, through `pub use`s.
fn resolve(path: &[String], depth: usize) -> PathBuf {
    let mut dir = src();
    let mut file = src().join("lib.rs");
    for (i, seg) in path.iter().enumerate() {
        let as_dir = dir.join(seg);
        let as_file = dir.join(format!("{seg}.rs"));
        if as_dir.join("mod.rs").is_file() {
            file = as_dir.join("mod.rs");
        } else if as_file.is_file() {
            file = as_file;
        } else {
            // A folder's front door (`mod.rs`, `lib.rs`) passes a `pub use` on to where it
            // leads; a leaf file that re-exports is itself what its users name.
            let front_door = file.ends_with("mod.rs") || file.ends_with("lib.rs");
            if front_door && depth < 8 {
                if let Some(mut target) = reexport(&file, seg) {
                    target.extend(path[i + 1..].iter().cloned());
                    return resolve(&target, depth + 1);
                }
            }
            return file;
        }
        dir = as_dir;
    }
    file
}

/// Every non-test source file under `dir`, with the code it names (test code left out).
fn sources(dir: &Path) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                if name != "tests" {
                    stack.push(p);
                }
                continue;
            }
            if !name.ends_with(".rs") || name == "tests.rs" || name.ends_with("_tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let module = module_path(&p);
            let extern_name = module.first().is_some_and(|m| m == "cli" || m == "main");
            let named = named_paths(code, &module, extern_name)
                .iter()
                .map(|path| resolve(path, 0))
                .collect();
            out.push((p, named));
        }
    }
    out.sort();
    out
}

fn floor_of(table: &[(&str, u8)], name: &str) -> Option<u8> {
    table.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}

/// The files of a circle in `edges`, if there is one.
fn find_circle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        done: &mut BTreeSet<PathBuf>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].to_vec());
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut done, &mut Vec::new()))
}

#[test]
fn top_level_modules_import_only_lower_floors() {
    let mut checked = 0;
    for (file, named) in sources(&src()) {
        let Some(top) = module_path(&file).first().cloned() else {
            continue;
        };
        let floor = floor_of(&FLOORS, &top)
            .unwrap_or_else(|| panic!("{}: module '{top}' has no floor", file.display()));
        for target in named {
            let Some(to) = module_path(&target).first().cloned() else {
                continue;
            };
            if to == top {
                continue;
            }
            let to_floor = floor_of(&FLOORS, &to)
                .unwrap_or_else(|| panic!("{}: module '{to}' has no floor", target.display()));
            assert!(
                to_floor < floor,
                "{} ({top}, floor {floor}) names {} ({to}, floor {to_floor})",
                file.display(),
                target.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 150, "only {checked} files checked");
}

#[test]
fn rom_rooms_import_only_lower_rooms() {
    let mut checked = 0;
    for (file, named) in sources(&src().join("rom")) {
        let module = module_path(&file);
        let Some(room) = module.get(1) else { continue };
        let floor = floor_of(&ROM_ROOMS, room)
            .unwrap_or_else(|| panic!("{}: room '{room}' has no floor", file.display()));
        for target in named {
            let to = module_path(&target);
            let Some(to_room) = to.get(1).filter(|_| to[0] == "rom") else {
                continue;
            };
            if to_room == room {
                continue;
            }
            let to_floor = floor_of(&ROM_ROOMS, to_room)
                .unwrap_or_else(|| panic!("{}: room '{to_room}' has no floor", target.display()));
            assert!(
                to_floor < floor,
                "{} (rom::{room}) names {} (rom::{to_room})",
                file.display(),
                target.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} files checked");
}

#[test]
fn no_circles_among_the_files_of_rom_and_formats() {
    for stage in ["rom", "formats"] {
        let root = src().join(stage);
        let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
        for (file, named) in sources(&root) {
            if file.ends_with("mod.rs") {
                continue;
            }
            let out = edges.entry(file.clone()).or_default();
            for target in named {
                if target != file && target.starts_with(&root) && !target.ends_with("mod.rs") {
                    out.insert(target);
                }
            }
        }
        assert!(edges.len() >= 15, "{stage}: only {} files", edges.len());
        if let Some(circle) = find_circle(&edges) {
            let names: Vec<String> = circle.iter().map(|p| p.display().to_string()).collect();
            panic!("{stage}: import circle {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_checks_see_paths_and_circles() {
    let module: Vec<String> = ["formats", "midi"].map(String::from).to_vec();
    let code = "use super::midi_import::{import, MidiImport};\n\
                use crate::rom::{codec::format, board};\n\
                // use crate::learn::train;\n\
                let x = crate::Error::Unsupported;";
    let paths = named_paths(code, &module, false);
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "formats::midi_import::import",
            "formats::midi_import::MidiImport",
            "rom::codec::format",
            "rom::board",
            "Error::Unsupported",
        ]
    );
    let decode = ["rom", "decode", "decode_cycles"].map(String::from);
    assert!(resolve(&decode, 0).ends_with("rom/codec/decode.rs"));
    let error = ["Error"].map(String::from);
    assert!(resolve(&error, 0).ends_with("src/error.rs"));

    let p = |s: &str| PathBuf::from(s);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    edges.entry(p("a")).or_default().insert(p("b"));
    edges.entry(p("b")).or_default().insert(p("c"));
    assert_eq!(find_circle(&edges), None);
    edges.entry(p("c")).or_default().insert(p("a"));
    assert_eq!(find_circle(&edges), Some(vec![p("a"), p("b"), p("c")]));
}
