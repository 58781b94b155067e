//! `nesmm export-ca65`: the ROM as a cc65 project (player sources, song data as `.byte`
//! source, the CHR font as `.byte` source, `nes.cfg` and a Makefile) that ca65 + ld65 turn into
//! the very ROM [`crate::rom::build_rom`] makes. The project files come from askama templates in
//! `templates/`; the sources and linker layout are the ones the build itself assembled.

use crate::apu_stream::ApuStream;
use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::rom::build::chr::chr_rom;
use crate::rom::build::player::{self, LinkedPrg};
use crate::rom::build::rom::{build_rom_with, BuildOptions, Rom};
use askama::Template;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// What the build handed the assembler for the final link.
#[derive(Debug, Clone)]
struct Captured {
    files: Vec<(String, Vec<u8>)>,
    main: String,
    config: String,
}

thread_local! {
    static CAPTURED: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// An assembler backend that records its input, then assembles with the default backend. The
/// build's last call is its final link.
fn recording_assembler(files: &[(String, Vec<u8>)], main: &str, config: &str) -> Result<LinkedPrg> {
    CAPTURED.with(|c| {
        *c.borrow_mut() = Some(Captured {
            files: files.to_vec(),
            main: main.to_string(),
            config: config.to_string(),
        })
    });
    (player::default_assembler())(files, main, config)
}

#[derive(Template)]
#[template(path = "nes.cfg", escape = "none")]
struct NesCfg<'a> {
    title: &'a str,
    mapper: &'a str,
    memory: Vec<String>,
    segments: Vec<String>,
}

#[derive(Template)]
#[template(path = "nes.s", escape = "none")]
struct NesS<'a> {
    title: &'a str,
    song_count: usize,
    mapper: &'a str,
    region: &'a str,
    rom_name: &'a str,
    header: String,
    main: &'a str,
}

#[derive(Template)]
#[template(path = "chr.s", escape = "none")]
struct ChrS {
    rows: Vec<String>,
}

#[derive(Template)]
#[template(path = "Makefile", escape = "none")]
struct Makefile<'a> {
    title: &'a str,
    rom_name: &'a str,
    sources: String,
}

/// The file `make` builds in an exported project.
pub const EXPORT_ROM_NAME: &str = "game.nes";

/// An exported project.
#[derive(Debug, Clone)]
pub struct Export {
    /// The ROM the project builds (what [`crate::rom::build_rom`] returns for the same input).
    pub rom: Rom,
    /// Files written, relative to the project folder.
    pub files: Vec<PathBuf>,
}

#[derive(Template)]
#[template(path = "data.s", escape = "none")]
struct DataS<'a> {
    what: &'a str,
    len: usize,
    rows: Vec<String>,
}

/// The sources the build assembled, as text: each binary file it `.incbin`s (the packed stream
/// data) becomes `.byte` source that `.include` brings in at the same place.
fn project_files(cap: &Captured) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut renamed = Vec::new();
    for (name, bytes) in &cap.files {
        if let Some(stem) = name.strip_suffix(".bin") {
            let source = format!("{stem}_data.s");
            let text = render(
                &DataS {
                    what: &format!("stream data ({name})"),
                    len: bytes.len(),
                    rows: bytes.chunks(16).map(byte_list).collect(),
                },
                "data.s",
            )?;
            renamed.push((
                format!(".incbin \"{name}\""),
                format!(".include \"{source}\""),
            ));
            out.push((source, text));
        } else {
            let text = String::from_utf8(bytes.clone()).map_err(|_| {
                Error::Unsupported(format!(
                    "player file '{name}' is neither text nor .bin data"
                ))
            })?;
            out.push((name.clone(), text));
        }
    }
    for (_, text) in &mut out {
        for (from, to) in &renamed {
            if text.contains(from.as_str()) {
                *text = text.replace(from.as_str(), to);
            }
        }
    }
    Ok(out)
}

/// The lines inside `NAME { ... }` of an ld65 config.
fn block(config: &str, name: &str) -> Result<Vec<String>> {
    let mut lines = config
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(name));
    let head = lines.next().ok_or_else(|| {
        Error::Unsupported(format!("the player's linker config has no {name} block"))
    })?;
    if !head.contains('{') {
        return Err(Error::Unsupported(format!(
            "the linker config's {name} line '{head}' does not open a block"
        )));
    }
    Ok(lines
        .take_while(|l| l.trim() != "}")
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_string)
        .collect())
}

fn byte_list(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("${b:02X}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders a template, ending the file with a newline (askama drops the template's last one).
fn render(t: &impl Template, what: &str) -> Result<String> {
    let mut text = t
        .render()
        .map_err(|e| Error::Unsupported(format!("template {what}: {e}")))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// The title as it may appear in a comment of the generated files: printable ASCII only (a
/// newline would end the comment and inject code; a backslash ending a Makefile comment would
/// continue it onto the next line).
fn comment_text(title: &str) -> String {
    title
        .chars()
        .map(|c| match c {
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// Writes the cc65 project of the ROM for `songs` into `dir` (created if missing).
pub fn export_ca65(songs: &[ApuStream], opts: &BuildOptions, dir: &Path) -> Result<Export> {
    let rom = build_rom_with(songs, opts, recording_assembler as player::Assembler)?;
    let cap = CAPTURED
        .with(|c| c.borrow_mut().take())
        .ok_or_else(|| Error::Unsupported("the build did not assemble anything".into()))?;
    let mapper = rom.mapper.name();
    let title = comment_text(&opts.title);
    let mut out = project_files(&cap)?;
    out.push((
        "nes.cfg".into(),
        render(
            &NesCfg {
                title: &title,
                mapper,
                memory: block(&cap.config, "MEMORY")?,
                segments: block(&cap.config, "SEGMENTS")?,
            },
            "nes.cfg",
        )?,
    ));
    let header = rom
        .bytes
        .get(..16)
        .ok_or_else(|| Error::Unsupported("the ROM has no header".into()))?;
    out.push((
        "nes.s".into(),
        render(
            &NesS {
                title: &title,
                song_count: songs.len(),
                mapper,
                region: opts.region.name(),
                rom_name: EXPORT_ROM_NAME,
                header: byte_list(header),
                main: &cap.main,
            },
            "nes.s",
        )?,
    ));
    let chr = chr_rom();
    out.push((
        "chr.s".into(),
        render(
            &ChrS {
                rows: chr.chunks(16).map(byte_list).collect(),
            },
            "chr.s",
        )?,
    ));
    let mut sources: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    sources.retain(|n| *n != "nes.cfg");
    let sources = sources.join(" ");
    out.push((
        "Makefile".into(),
        render(
            &Makefile {
                title: &title,
                rom_name: EXPORT_ROM_NAME,
                sources,
            },
            "Makefile",
        )?,
    ));
    let mut files = Vec::new();
    for (name, text) in &out {
        let rel = PathBuf::from(name);
        if rel.is_absolute() || name.contains("..") {
            return Err(Error::Unsupported(format!(
                "player file name '{name}' would leave the export folder"
            )));
        }
        write_atomic(dir.join(&rel), text.as_bytes())?;
        files.push(rel);
    }
    Ok(Export { rom, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_blocks_are_extracted() {
        let cfg = "# c\nMEMORY {\n    ZP: start = 0;\n\n    PRG: start = $8000;\n}\nSEGMENTS {\n    CODE: load = PRG;\n}\n";
        assert_eq!(
            block(cfg, "MEMORY").unwrap(),
            ["    ZP: start = 0;", "    PRG: start = $8000;"]
        );
        assert_eq!(block(cfg, "SEGMENTS").unwrap(), ["    CODE: load = PRG;"]);
        assert!(block(cfg, "FILES").is_err());
        let t = NesCfg {
            title: "t",
            mapper: "NROM",
            memory: vec!["    PRG: start = $8000;".into()],
            segments: vec!["    CODE: load = PRG;".into()],
        }
        .render()
        .unwrap();
        assert!(t.contains("HEADER: start = $0000, size = $0010"), "{t}");
        assert!(t.contains("\n    PRG: start = $8000;\n    CHR:"), "{t}");
        assert!(t.contains("\n    CODE: load = PRG;\n    CHARS:"), "{t}");
    }
}
