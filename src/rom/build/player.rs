//! The 6502 player sources (`asm/`), embedded so the library builds ROMs on its own, and the
//! assembler backends that turn them into a PRG image.

use crate::assembler::{assemble_and_link, SourceSet};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The player's source files, by the names they `.include` each other with.
pub const PLAYER_SOURCES: &[(&str, &str)] = &[
    ("rom.s", include_str!("../../../asm/rom.s")),
    ("nes.inc", include_str!("../../../asm/nes.inc")),
    ("zeropage.s", include_str!("../../../asm/zeropage.s")),
    ("music.s", include_str!("../../../asm/music.s")),
    (
        "music_blocks.s",
        include_str!("../../../asm/music_blocks.s"),
    ),
    ("reset.s", include_str!("../../../asm/reset.s")),
    ("nmi.s", include_str!("../../../asm/nmi.s")),
    ("main.s", include_str!("../../../asm/main.s")),
    ("ui.s", include_str!("../../../asm/ui.s")),
    ("ui_draw.s", include_str!("../../../asm/ui_draw.s")),
    ("ui_text.s", include_str!("../../../asm/ui_text.s")),
    ("ui_ram.s", include_str!("../../../asm/ui_ram.s")),
];

/// The top-level source.
pub const MAIN_SOURCE: &str = "rom.s";

/// A linked program: the PRG bytes (no iNES header) and the labels' addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedPrg {
    pub image: Vec<u8>,
    pub symbols: BTreeMap<String, u16>,
}

/// An assembler backend: `(files, main file, linker config) -> linked program`.
pub type Assembler = fn(&[(String, Vec<u8>)], &str, &str) -> Result<LinkedPrg>;

/// Assembles with the cc65 tools (`ca65`, `ld65`) in a temporary folder. Used to cross-check
/// our assembler, and where it is missing.
pub fn assemble_with_ca65(
    files: &[(String, Vec<u8>)],
    main: &str,
    linker_config: &str,
) -> Result<LinkedPrg> {
    let dir = std::env::temp_dir().join(format!(
        "nesmm-ca65-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let result = run_ca65(&dir, files, main, linker_config);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_ca65(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    main: &str,
    linker_config: &str,
) -> Result<LinkedPrg> {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
    }
    let cfg = dir.join("link.cfg");
    std::fs::write(&cfg, linker_config).map_err(|e| Error::io(&cfg, e))?;
    let run = |cmd: &mut Command, what: &str| -> Result<()> {
        let out = cmd
            .current_dir(dir)
            .output()
            .map_err(|e| Error::io(what, e))?;
        if !out.status.success() {
            return Err(Error::Unsupported(format!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    };
    run(
        Command::new("ca65").args(["-g", main, "-o", "rom.o"]),
        "ca65",
    )?;
    run(
        Command::new("ld65").args([
            "-C",
            "link.cfg",
            "rom.o",
            "-o",
            "prg.bin",
            "-Ln",
            "labels.txt",
        ]),
        "ld65",
    )?;
    let image = std::fs::read(dir.join("prg.bin")).map_err(|e| Error::io("prg.bin", e))?;
    let labels =
        std::fs::read_to_string(dir.join("labels.txt")).map_err(|e| Error::io("labels.txt", e))?;
    let mut symbols = BTreeMap::new();
    for line in labels.lines() {
        let mut t = line.split_whitespace();
        if let (Some("al"), Some(addr), Some(name)) = (t.next(), t.next(), t.next()) {
            if let Ok(a) = u32::from_str_radix(addr, 16) {
                symbols.insert(name.trim_start_matches('.').to_string(), a as u16);
            }
        }
    }
    // The label file lists labels only; add the `NAME = $hex` constants (zero-page variables).
    for (_, text) in files {
        for line in String::from_utf8_lossy(text).lines() {
            let code = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = code.split_once('=') {
                let name = name.trim();
                let value = value.trim();
                if let Some(hex) = value.strip_prefix('$') {
                    if let (true, Ok(v)) = (
                        !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'),
                        u16::from_str_radix(hex, 16),
                    ) {
                        symbols.entry(name.to_string()).or_insert(v);
                    }
                }
            }
        }
    }
    Ok(LinkedPrg { image, symbols })
}

/// The backend `build_rom` uses: ours.
pub fn default_assembler() -> Assembler {
    assemble_with_nesmm
}

/// Assembles with our assembler ([`crate::assembler::assemble_and_link`]), in memory.
pub fn assemble_with_nesmm(
    files: &[(String, Vec<u8>)],
    main: &str,
    linker_config: &str,
) -> Result<LinkedPrg> {
    let mut set = SourceSet::new();
    for (name, text) in files {
        set.insert(name.clone(), text.as_slice());
    }
    let linked = assemble_and_link(&set, main, linker_config)?;
    Ok(LinkedPrg {
        image: linked.image,
        symbols: linked
            .symbols
            .into_iter()
            .filter_map(|(k, v)| u16::try_from(v).ok().map(|v| (k, v)))
            .collect(),
    })
}
