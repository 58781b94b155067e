//! The assembler and linker against Debian's ca65 + ld65: the same sources and linker config
//! must give byte-identical images. Comparisons print "skipping" and return when cc65 is not
//! installed (CI installs it). Error cases and the API need no external tool.

use nesmm::assembler::{assemble_and_link, Linked, SourceSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn asm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asm")
}

fn have_cc65() -> bool {
    let ok = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if ok("ca65") && ok("ld65") {
        true
    } else {
        println!("skipping: ca65/ld65 not installed (apt-get install cc65)");
        false
    }
}

/// Assembles `main` among `files` with ca65 + ld65 in a temporary folder.
fn reference(files: &SourceSet, main: &str, cfg: &str) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for name in files.names() {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, files.get(name).unwrap()).unwrap();
    }
    std::fs::write(dir.path().join("link.cfg"), cfg).unwrap();
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd.current_dir(dir.path()).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    run(Command::new("ca65").args(["-o", "out.o", main]))?;
    run(Command::new("ld65").args(["-C", "link.cfg", "-o", "out.bin", "out.o"]))?;
    Ok(std::fs::read(dir.path().join("out.bin")).unwrap())
}

/// Asserts that ours and ca65 + ld65 give the same image; returns ours.
fn assert_same(files: &SourceSet, main: &str, cfg: &str) -> Option<Linked> {
    let ours = assemble_and_link(files, main, cfg).unwrap_or_else(|e| panic!("our assembler failed: {e}"));
    if !have_cc65() {
        return None;
    }
    let theirs = reference(files, main, cfg).unwrap_or_else(|e| panic!("ca65/ld65 failed: {e}"));
    if ours.image != theirs {
        let at = ours.image.iter().zip(&theirs).position(|(a, b)| a != b).unwrap_or(ours.image.len().min(theirs.len()));
        panic!(
            "image differs from ld65 at offset {at:#x} (ours {} bytes, ld65 {} bytes): ours {:02x?} ld65 {:02x?}",
            ours.image.len(),
            theirs.len(),
            &ours.image[at.saturating_sub(4)..(at + 8).min(ours.image.len())],
            &theirs[at.saturating_sub(4)..(at + 8).min(theirs.len())]
        );
    }
    Some(ours)
}

fn read_cfg(name: &str) -> String {
    std::fs::read_to_string(asm_dir().join(name)).unwrap()
}

#[test]
fn comprehensive_program_matches_ca65_nrom() {
    let files = SourceSet::from_dir(asm_dir()).unwrap();
    let ours = assemble_and_link(&files, "full.s", &read_cfg("nrom.cfg")).unwrap();
    assert_eq!(ours.image.len(), 0x4000);
    assert_eq!(ours.symbols["reset"], 0xC000);
    assert_eq!(ours.symbols["sub::local_const"], 0x42);
    assert_eq!(ours.symbols["zpvar"], 0);
    assert_eq!(ours.symbols["vector"], 0xFFFA);
    assert_eq!(ours.symbols["table"] & 0xFF, 0, "RODATA is aligned to $100");
    assert_same(&files, "full.s", &read_cfg("nrom.cfg"));
}
