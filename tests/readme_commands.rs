//! The README's commands cannot rot: every `nesmm ...` / `cargo run [--release] -- ...` line of
//! its ```sh blocks runs for real here, as the built binary, in order, in one fresh folder that
//! holds the songs the README names (synthetic fixtures, see [`write_fixtures`]). The convention
//! is documented in the README's last section:
//!
//! - each command must exit 0 and write what it names (`-o`, `--output`, `--out`,
//!   `--stream-out`, the second file of `convert`, `roms/demo/` for a `demo` without `-o`);
//!   outputs under `roms/examples/` must equal the committed files byte for byte;
//! - `<!-- test: ... -->` comments right before a block qualify it, with `;`-separated
//!   directives: `needs NES-MDB` (run only when NES-MDB is found, else print
//!   `skipping: NES-MDB not found ...`), and `append to SUBCOMMAND: ARGS` (ARGS are added to that
//!   subcommand's lines, to keep a test run short). An unknown directive fails the test;
//! - every command (appended ARGS included) is also run with `--help`, so even a block skipped
//!   for want of NES-MDB is checked for a real subcommand and real options.

#[path = "common/skip.rs"]
mod skip;

use nesmm::Score;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A command found in the README: its arguments after `nesmm`.
#[derive(Debug, Clone, PartialEq)]
struct ReadmeCommand {
    line: usize,
    args: Vec<String>,
}

/// A ```sh block with its `<!-- test: ... -->` directives applied.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    line: usize,
    needs_nesmdb: bool,
    commands: Vec<ReadmeCommand>,
}

/// Directives of the `<!-- test: ... -->` comments before a block.
#[derive(Debug, Default, Clone, PartialEq)]
struct Directives {
    needs_nesmdb: bool,
    /// (subcommand, arguments to append to its lines)
    appends: Vec<(String, Vec<String>)>,
}

impl Directives {
    /// Adds the directives of one marker comment (the text between `test:` and `-->`).
    fn add(&mut self, text: &str, line: usize) -> Result<(), String> {
        for d in text.split(';').map(str::trim).filter(|d| !d.is_empty()) {
            if d == "needs NES-MDB" {
                self.needs_nesmdb = true;
            } else if let Some(rest) = d.strip_prefix("append to ") {
                let (sub, args) = rest.split_once(':').ok_or_else(|| {
                    format!("README.md line {line}: `{d}`: want `append to SUBCOMMAND: ARGS`")
                })?;
                let args = shell_words(args).map_err(|e| format!("README.md line {line}: {e}"))?;
                if args.is_empty() {
                    return Err(format!("README.md line {line}: `{d}` appends nothing"));
                }
                self.appends
                    .push((sub.trim().trim_matches('`').to_string(), args));
            } else {
                return Err(format!(
                    "README.md line {line}: unknown test directive `{d}` (known: `needs NES-MDB`, \
                     `append to SUBCOMMAND: ARGS`)"
                ));
            }
        }
        Ok(())
    }

    fn apply(&self, mut args: Vec<String>) -> Vec<String> {
        for (sub, extra) in &self.appends {
            if args.first() == Some(sub) {
                args.extend(extra.iter().cloned());
            }
        }
        args
    }
}

/// Splits a command line into words as a POSIX shell does for plain commands: whitespace
/// separates, '...' and "..." quote, a backslash escapes the next character, `#` at the start
/// of a word begins a comment. Pipes, redirections, variables and command lists are refused:
/// a README command must be one plain `nesmm` invocation.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated ' in `{line}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => word.push(c),
                            None => return Err(format!("trailing \\ in `{line}`")),
                        },
                        Some(c @ ('$' | '`')) => {
                            return Err(format!("`{c}` inside \"...\" in `{line}`"))
                        }
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated \" in `{line}`")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(format!("trailing \\ in `{line}`")),
                }
            }
            '|' | '&' | ';' | '<' | '>' | '$' | '`' | '(' | ')' => {
                return Err(format!(
                    "`{c}` in `{line}`: README commands must be plain invocations"
                ))
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The `nesmm` commands of the ```sh blocks of `markdown`, block by block.
fn blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut out: Vec<Block> = Vec::new();
    let mut in_sh = false;
    let mut pending = Directives::default();
    let mut current = Directives::default();
    for (i, raw) in markdown.lines().enumerate() {
        let line = raw.trim();
        let n = i + 1;
        if !in_sh {
            if line.starts_with("```sh") {
                in_sh = true;
                current = std::mem::take(&mut pending);
                out.push(Block {
                    line: n,
                    needs_nesmdb: current.needs_nesmdb,
                    commands: Vec::new(),
                });
            } else if line.starts_with("<!-- test") {
                let body = line
                    .strip_prefix("<!-- test:")
                    .and_then(|r| r.strip_suffix("-->"))
                    .ok_or_else(|| {
                        format!(
                            "README.md line {n}: `{line}`: a test marker reads \
                             `<!-- test: DIRECTIVE; ... -->` (every block runs; no bare marker)"
                        )
                    })?;
                pending.add(body, n)?;
            } else if !line.is_empty() && pending != Directives::default() {
                return Err(format!(
                    "README.md line {n}: a `<!-- test: ... -->` marker must come right before a \
                     ```sh block"
                ));
            }
            continue;
        }
        if line.starts_with("```") {
            in_sh = false;
            continue;
        }
        // Only `nesmm` lines are ours: `cargo test`, `export ...` and the like are not run.
        let first_two: Vec<&str> = line.split_whitespace().take(2).collect();
        if !matches!(first_two.as_slice(), ["nesmm", ..] | ["cargo", "run"]) {
            continue;
        }
        let words = shell_words(line).map_err(|e| format!("README.md line {n}: {e}"))?;
        let args = match words.first().map(String::as_str) {
            Some("nesmm") => words[1..].to_vec(),
            _ => match words.iter().position(|w| w == "--") {
                Some(p) => words[p + 1..].to_vec(),
                None => return Err(format!("README.md line {n}: `cargo run` without `--`")),
            },
        };
        if let Some(b) = out.last_mut() {
            b.commands.push(ReadmeCommand {
                line: n,
                args: current.apply(args),
            });
        }
    }
    if pending != Directives::default() {
        return Err("README.md: a `<!-- test: ... -->` marker at the end, before no block".into());
    }
    Ok(out)
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

fn readme_blocks() -> Vec<Block> {
    blocks(&readme()).unwrap_or_else(|e| panic!("{e}"))
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn extraction_follows_the_convention() {
    let md = "x\n<!-- test: needs NES-MDB; append to train: --max-songs 3 -->\n\n```sh\n\
              nesmm train --out m\nnesmm info a.pkl # comment\n# comment\ncargo test\n```\n\n\
              ```sh\ncargo run --release -- demo\nexport X=$HOME\n\
              nesmm build a.mid -o x.nes --title \"My Album\" --x 'a b' c\\ d\n```\n";
    let b = blocks(md).unwrap();
    assert_eq!(
        b,
        vec![
            Block {
                line: 4,
                needs_nesmdb: true,
                commands: vec![
                    ReadmeCommand {
                        line: 5,
                        args: words("train --out m --max-songs 3"),
                    },
                    ReadmeCommand {
                        line: 6,
                        args: words("info a.pkl"),
                    },
                ],
            },
            Block {
                line: 11,
                needs_nesmdb: false,
                commands: vec![
                    ReadmeCommand {
                        line: 12,
                        args: words("demo"),
                    },
                    ReadmeCommand {
                        line: 14,
                        args: [
                            "build", "a.mid", "-o", "x.nes", "--title", "My Album", "--x", "a b",
                            "c d",
                        ]
                        .map(String::from)
                        .to_vec(),
                    },
                ],
            },
        ]
    );
    // Mistakes in the markers or commands are reported, never silently ignored.
    for (bad, want) in [
        (
            "<!-- test -->\n```sh\nnesmm info a\n```\n",
            "no bare marker",
        ),
        (
            "<!-- test: needs data -->\n```sh\nnesmm info a\n```\n",
            "unknown test directive",
        ),
        (
            "<!-- test: append to train -->\n```sh\nnesmm info a\n```\n",
            "append to SUBCOMMAND: ARGS",
        ),
        (
            "<!-- test: needs NES-MDB -->\ntext\n```sh\nnesmm info a\n```\n",
            "right before",
        ),
        ("```sh\nnesmm info a > b.txt\n```\n", "plain invocations"),
        ("```sh\nnesmm info \"a\n```\n", "unterminated"),
    ] {
        let e = blocks(bad).unwrap_err();
        assert!(e.contains(want), "{bad:?}: {e}");
    }
}

#[test]
fn every_readme_command_names_a_real_subcommand() {
    let blocks = readme_blocks();
    let cmds: Vec<&ReadmeCommand> = blocks.iter().flat_map(|b| &b.commands).collect();
    assert!(
        cmds.iter()
            .any(|c| c.args.first().map(String::as_str) == Some("demo")),
        "the README shows the demo"
    );
    for c in &cmds {
        let o = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(&c.args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "README.md line {}: `nesmm {}` is not a valid command:\n{}",
            c.line,
            c.args.join(" "),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let md = readme();
    assert!(
        md.contains("```sh\ncargo test\n```"),
        "README shows `cargo test`"
    );
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run runs `cargo test`"
    );
}

/// A synthetic song of `seconds` at 24 Hz: a melody on P1 (`tune` picks its mode and
/// register), a held harmony on P2, a bass line and a beat, so that every voice sounds.
fn fixture_song(name: &str, tune: u8, seconds: u32) -> Score {
    let frames: Vec<[u8; 4]> = (0..24 * seconds)
        .map(|f| {
            let step = (f / 12 % 8) as u8;
            let p1 = 60 + tune * 2 + [0, 2, 4, 5, 7, 5, 4, 2][step as usize] + tune % 2;
            [
                if f % 12 < 10 { p1 } else { 0 },
                if f % 48 < 40 { 67 + tune } else { 0 },
                36 + tune + (f / 24 % 4) as u8 * 2,
                if f % (6 + tune as u32) < 2 {
                    8 + tune
                } else {
                    0
                },
            ]
        })
        .collect();
    Score::from_notes(name, 24.0, &frames)
}

/// The files the README's commands read: `song.exprsco.pkl` (10 s, expressive) and the MIDI
/// songs of the VAE and album examples (`theme.mid`, `boss.mid`, `intro.mid`, `level1.mid`,
/// 6-8 s each). A README command that reads another file fails until it is added here.
fn write_fixtures(dir: &Path) {
    let mut song = fixture_song("song", 0, 10);
    song.expressive = true;
    nesmm::formats::save_score(&song, &dir.join("song.exprsco.pkl")).unwrap();
    for (i, (name, secs)) in [("theme", 8), ("boss", 8), ("intro", 6), ("level1", 7)]
        .into_iter()
        .enumerate()
    {
        let s = fixture_song(name, i as u8 + 1, secs);
        nesmm::formats::save_score(&s, &dir.join(format!("{name}.mid"))).unwrap();
    }
}

/// What a command says it writes, relative to its working folder.
fn named_outputs(args: &[String]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = args
        .windows(2)
        .filter(|w| ["-o", "--output", "--out", "--stream-out"].contains(&w[0].as_str()))
        .map(|w| PathBuf::from(&w[1]))
        .collect();
    match args.first().map(String::as_str) {
        Some("convert") => {
            let positional: Vec<&String> =
                args[1..].iter().filter(|a| !a.starts_with('-')).collect();
            if let [_, to, ..] = positional.as_slice() {
                out.push(PathBuf::from(to));
            }
        }
        Some("demo") if out.is_empty() => out.push(PathBuf::from("roms/demo/index.html")),
        _ => {}
    }
    out
}

/// Every file below `dir`, relative to it.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap() {
            let e = e.unwrap();
            let r = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                todo.push(r);
            } else {
                out.push(r);
            }
        }
    }
    out.sort();
    out
}

/// Outputs under `roms/examples/` are the committed examples: same files, same bytes.
fn check_against_committed(written: &Path, rel: &Path, c: &ReadmeCommand) {
    if !rel.starts_with("roms/examples") {
        return;
    }
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let files = files_below(&committed);
    assert!(!files.is_empty(), "{} is empty", committed.display());
    assert_eq!(
        files_below(written),
        files,
        "README.md line {}: `nesmm {}` writes other files than {} holds",
        c.line,
        c.args.join(" "),
        rel.display()
    );
    for f in files {
        assert!(
            std::fs::read(written.join(&f)).unwrap() == std::fs::read(committed.join(&f)).unwrap(),
            "README.md line {}: {} differs from the committed {}; rebuild the examples \
             (roms/README.md)",
            c.line,
            f.display(),
            rel.join(&f).display()
        );
    }
}

#[test]
fn every_readme_command_runs() {
    let blocks = readme_blocks();
    let dir = tempfile::tempdir().unwrap();
    write_fixtures(dir.path());
    let nesmdb = nesmm::formats::nesmdb::data_dir()
        .filter(|d| d.join("nesmdb24_seprsco.tar.gz").is_file())
        .map(|d| d.canonicalize().unwrap());
    let mut ran = 0;
    for b in &blocks {
        if b.needs_nesmdb && nesmdb.is_none() {
            skip::skip(format_args!(
                "NES-MDB not found at $NESMDB_DIR or ../shared/data/nesmdb \
                 (README.md block at line {}: {} commands, checked with --help only)",
                b.line,
                b.commands.len()
            ));
            continue;
        }
        for c in &b.commands {
            let start = std::time::Instant::now();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_nesmm"));
            cmd.args(&c.args).current_dir(dir.path());
            if let Some(d) = &nesmdb {
                cmd.env("NESMDB_DIR", d);
            }
            let o = cmd.output().unwrap();
            assert!(
                o.status.success(),
                "README.md line {}: `nesmm {}` failed:\n{}{}",
                c.line,
                c.args.join(" "),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            for rel in named_outputs(&c.args) {
                let p = dir.path().join(&rel);
                assert!(
                    p.is_file() || (p.is_dir() && !files_below(&p).is_empty()),
                    "README.md line {}: `nesmm {}` did not write {}",
                    c.line,
                    c.args.join(" "),
                    rel.display()
                );
                if p.is_dir() {
                    check_against_committed(&p, &rel, c);
                }
            }
            println!(
                "README.md line {}: nesmm {} ({:.1} s)",
                c.line,
                c.args.join(" "),
                start.elapsed().as_secs_f64()
            );
            ran += 1;
        }
    }
    assert!(ran >= 10, "only {ran} README commands ran");
}
