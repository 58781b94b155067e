//! The assembler and linker against Debian's ca65 + ld65: the same sources and linker config
//! must give byte-identical images. Comparisons print "skipping" and return when cc65 is not
//! installed (CI installs it). Error cases and the API need no external tool.

#[path = "common/skip.rs"]
mod skip;

use nesmm::assembler::{assemble_and_link, Linked, SourceSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn asm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asm")
}

fn have_cc65() -> bool {
    let ok = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ok("ca65") && ok("ld65") {
        true
    } else {
        skip::skip("ca65/ld65 not installed (apt-get install cc65)");
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
        let out = cmd
            .current_dir(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
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
    let ours =
        assemble_and_link(files, main, cfg).unwrap_or_else(|e| panic!("our assembler failed: {e}"));
    if !have_cc65() {
        return None;
    }
    let theirs = reference(files, main, cfg).unwrap_or_else(|e| panic!("ca65/ld65 failed: {e}"));
    if ours.image != theirs {
        let at = ours
            .image
            .iter()
            .zip(&theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.image.len().min(theirs.len()));
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
    if have_cc65() {
        // ld65's label file (ca65 -g) lists every label by its last name component.
        let dir = tempfile::tempdir().unwrap();
        let (o, l) = (dir.path().join("f.o"), dir.path().join("f.lbl"));
        let ok = Command::new("ca65")
            .current_dir(asm_dir())
            .arg("-g")
            .arg("-o")
            .arg(&o)
            .arg("full.s")
            .status()
            .unwrap()
            .success()
            && Command::new("ld65")
                .current_dir(asm_dir())
                .args(["-C", "nrom.cfg", "-Ln"])
                .arg(&l)
                .arg("-o")
                .arg(dir.path().join("f.bin"))
                .arg(&o)
                .status()
                .unwrap()
                .success();
        assert!(ok, "ca65/ld65 failed on full.s");
        let labels = std::fs::read_to_string(&l).unwrap();
        let mut checked = 0;
        for line in labels.lines() {
            let mut parts = line.split_whitespace().skip(1);
            let (Some(addr), Some(name)) = (parts.next(), parts.next()) else {
                continue;
            };
            let name = name.trim_start_matches('.');
            if name.starts_with('@') {
                continue;
            }
            let addr = u32::from_str_radix(addr, 16).unwrap();
            let found = ours
                .symbols
                .iter()
                .any(|(k, v)| *v == addr && k.rsplit("::").next() == Some(name));
            assert!(
                found,
                "ld65 label {name} = ${addr:04X} missing from our symbols"
            );
            checked += 1;
        }
        assert!(checked >= 15, "only {checked} labels compared");
    }
}

/// A small NROM config for snippets: zero page, RAM, 4 KiB of ROM at $8000.
const SNIPPET_CFG: &str = "
MEMORY { ZP: start = $00, size = $100, type = rw, file = \"\";
         RAM: start = $200, size = $600, type = rw, file = \"\";
         ROM: start = $8000, size = $1000, type = ro, file = %O, fill = yes, fillval = $FF; }
SEGMENTS { ZEROPAGE: load = ZP, type = zp; BSS: load = RAM, type = bss;
           CODE: load = ROM, type = ro; RODATA: load = ROM, type = ro; }
";

/// Assembles `body` after a fixed prelude and returns the bytes it emitted at $8000.
fn snippet_bytes(body: &str) -> Vec<u8> {
    let src = format!(
        ".segment \"ZEROPAGE\"\nzp1: .res 2\n.segment \"BSS\"\nram1: .res 2\n.segment \"CODE\"\n\
         C1 = $10\nC2 = $1234\nstart:\n{body}\nend_of_code:\n"
    );
    let files = SourceSet::new().with("t.s", src);
    let linked = assert_same(&files, "t.s", SNIPPET_CFG)
        .unwrap_or_else(|| assemble_and_link(&files, "t.s", SNIPPET_CFG).unwrap());
    let len = (linked.symbols["end_of_code"] - 0x8000) as usize;
    linked.image[..len].to_vec()
}

#[test]
fn zero_page_or_absolute_like_ca65() {
    // (source, bytes): each also compared with ca65 + ld65 when installed.
    let cases: &[(&str, &[u8])] = &[
        ("lda $0010", &[0xA5, 0x10]),
        ("lda C1", &[0xA5, 0x10]),
        ("lda C2", &[0xAD, 0x34, 0x12]),
        ("lda zp1", &[0xA5, 0x00]),
        ("lda zp1+1", &[0xA5, 0x01]),
        ("lda zp1*2", &[0xA5, 0x00]),
        ("lda zp1 & $ff", &[0xA5, 0x00]),
        ("lda zp1 & $ff00", &[0xAD, 0x00, 0x00]),
        ("lda zp1 | 0", &[0xA5, 0x00]),
        ("lda ram1", &[0xAD, 0x00, 0x02]),
        ("lda <start", &[0xA5, 0x00]),
        ("lda >start,x", &[0xB5, 0x80]),
        ("lda fwd\nfwd = $30", &[0xAD, 0x30, 0x00]),
        (
            "lda fwdzp\n.segment \"ZEROPAGE\"\nfwdzp: .res 1\n.segment \"CODE\"",
            &[0xAD, 0x02, 0x00],
        ),
        ("lda C1+C2-C2", &[0xA5, 0x10]),
        ("lda C1+start-start", &[0xAD, 0x10, 0x00]),
        ("lda zp1 - start + start", &[0xA5, 0x00]),
        ("lda zp1,y", &[0xB9, 0x00, 0x00]),
        ("ldx zp1,y", &[0xB6, 0x00]),
        ("stx fwd,y\nfwd = $44", &[0x96, 0x44]),
        ("lda a:C1", &[0xAD, 0x10, 0x00]),
        ("lda z:fwd\nfwd = $20", &[0xA5, 0x20]),
        ("lda C1 | $100", &[0xAD, 0x10, 0x01]),
        ("sta (zp1),y", &[0x91, 0x00]),
        ("sta (zp1,x)", &[0x81, 0x00]),
        ("jmp (C2)", &[0x6C, 0x34, 0x12]),
        ("jmp C1", &[0x4C, 0x10, 0x00]),
        ("bit C1", &[0x24, 0x10]),
        ("asl\nasl a\nlsr A", &[0x0A, 0x0A, 0x4A]),
        ("K = zp1 + 1\nlda K", &[0xA5, 0x01]),
        ("K = ram1 + 1\nlda K", &[0xAD, 0x01, 0x02]),
        (
            "lda #<C2\nlda #>C2\nlda #^$123456",
            &[0xA9, 0x34, 0xA9, 0x12, 0xA9, 0x12],
        ),
        ("lda #<start+1", &[0xA9, 0x01]),
        (
            "@l: bne @l\nbeq @m\n@m: rts",
            &[0xD0, 0xFE, 0xF0, 0x00, 0x60],
        ),
        ("bcc *+2\nbcs *", &[0x90, 0x00, 0xB0, 0xFE]),
        // ca65 folds operations on constants while parsing: sized by the final value.
        ("lda C2-C2", &[0xA5, 0x00]),
        ("lda C2-$1200", &[0xA5, 0x34]),
        ("lda C2/$1000", &[0xA5, 0x01]),
        ("lda C2>>8", &[0xA5, 0x12]),
        ("lda C2+C1-C2", &[0xA5, 0x10]),
        // Labels are not folded: a cancelled label keeps its segment's size.
        ("lda start-start", &[0xAD, 0x00, 0x00]),
        ("lda start-start+C1", &[0xAD, 0x10, 0x00]),
        ("lda C2-C2+start-start", &[0xAD, 0x00, 0x00]),
        ("lda zp1-zp1", &[0xA5, 0x00]),
        ("lda start-start+zp1", &[0xA5, 0x00]),
        ("lda zp1+C2-C2", &[0xA5, 0x00]),
        ("lda end_of_code-start", &[0xAD, 0x03, 0x00]),
        ("A1 = C1\nA2 = A1\nlda A2+C2-C2", &[0xA5, 0x10]),
    ];
    for (src, want) in cases {
        assert_eq!(&snippet_bytes(src), want, "source: {src}");
    }
}

#[test]
fn multi_bank_uxrom_matches_ld65() {
    let files = SourceSet::from_dir(asm_dir()).unwrap();
    let cfg = read_cfg("uxrom.cfg");
    let ours = assemble_and_link(&files, "uxrom.s", &cfg).unwrap();
    assert_eq!(ours.image.len(), 4 * 0x4000, "four 16 KiB banks");
    assert_eq!(ours.symbols["song0"], 0x8000);
    assert_eq!(
        ours.symbols["song1"], 0x8007,
        "BANK1 (already aligned) after .res 7"
    );
    assert_eq!(ours.symbols["late1"], 0x9000);
    assert_eq!(ours.symbols["reset"], 0xC000);
    assert_eq!(
        ours.image[0x4000 + 6],
        0x11,
        ".res without a value uses the bank's fillval"
    );
    assert_eq!(&ours.image[0xFFFA..], &[0x17, 0xC0, 0x00, 0xC0, 0x17, 0xC0]);
    assert_same(&files, "uxrom.s", &cfg);
}

#[test]
fn ld65_layout_rules_match() {
    // Non-filled areas end after their last segment; gaps before `start`/`align` are filled
    // with the area's fillval; bss in a filled rw area is written as fill; `.align` pads
    // relative to the segment start; segment fillval overrides the area's.
    let cfg = "
MEMORY {
    A: start = $1000, size = $100, type = rw, file = %O, fillval = $AA;
    B: start = $2000, size = $40, type = rw, file = %O, fill = yes, fillval = $BB;
    C: start = $3000, size = $100, type = ro, file = \"\";
}
SEGMENTS {
    ONE:   load = A, type = ro;
    TWO:   load = A, type = ro, start = $1010;
    THREE: load = A, type = ro, align = 8;
    FOUR:  load = B, type = rw, fillval = $CC;
    GAP:   load = B, type = bss;
    FIVE:  load = B, type = ro, align = 16;
    SIX:   load = C, type = ro;
}";
    let src = "
.segment \"ONE\"\n  .byte 1, 2, 3\n  .res 2\n
.segment \"TWO\"\n  .byte 4\n  .align 4\n  .byte 5\n
.segment \"THREE\"\n  .word * \n
.segment \"FOUR\"\n  .byte 6\n  .res 3\n
.segment \"GAP\"\n  .res 5\n
.segment \"FIVE\"\n  .byte 7\n
.segment \"SIX\"\n  .byte 8\n";
    let files = SourceSet::new().with("t.s", src);
    let ours = assemble_and_link(&files, "t.s", cfg).unwrap();
    let a_part = [
        &[1u8, 2, 3, 0xAA, 0xAA][..],
        &[0xAA; 11],
        &[4, 0xAA, 0xAA, 0xAA, 5],
        &[0xAA; 3],
        &[0x18, 0x10],
    ]
    .concat();
    assert_eq!(&ours.image[..a_part.len()], &a_part[..]);
    assert_eq!(ours.image.len(), a_part.len() + 0x40);
    assert_same(&files, "t.s", cfg);
}

/// Assembles `src` as "t.s" (with `inc.s` available) and returns the error text.
fn error_of(src: &str) -> String {
    let files = SourceSet::new()
        .with("t.s", src)
        .with("inc.s", "  nop\n  lda #$100\n");
    match assemble_and_link(&files, "t.s", SNIPPET_CFG) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        ("  nop\n  lda2 #1\n", "t.s:2:3: unknown mnemonic 'lda2'"),
        ("  sta #1\n", "t.s:1:3: illegal addressing mode: 'sta' has no immediate form"),
        ("  ldx $10,x\n", "t.s:1:3: illegal addressing mode"),
        ("  jmp ($10),y\n", "t.s:1:3: illegal addressing mode"),
        ("start:\n  jmp nowhere\n", "t.s:2:7: symbol 'nowhere' is undefined"),
        ("start:\n  bne far\n  .res 200\nfar: rts\n", "t.s:2:7: branch out of range: distance 200"),
        ("back: .res 200\n  beq back\n", "t.s:2:7: branch out of range: distance -202"),
        ("  lda #256\n", "t.s:1:8: range error: 256 does not fit in a byte"),
        ("  .byte 1, 256\n", "t.s:1:12: range error: 256 does not fit in a byte"),
        ("  .byte 1,\n", "t.s:1:11: expected an expression"),
        ("  .word $10000\n", "t.s:1:9: range error: 65536 does not fit in a word"),
        ("x1: nop\nx1: nop\n", "t.s:2:1: symbol 'x1' is already defined (at t.s:1:1)"),
        ("  .include \"missing.s\"\n", "t.s:1:3: include file 'missing.s' not found"),
        ("  .byte \"abc\n", "t.s:1:9: unterminated string"),
        (".if 1\n  nop\n", "t.s:1:1: .if without .endif"),
        ("  .endproc\n", "t.s:1:3: .endproc without matching .proc"),
        (".proc p\n  nop\n", "t.s:1:1: .proc without .endproc"),
        ("start:\n  .byte start\n", "t.s:2:9: range error"),
        ("  @x: nop\n", "t.s:1:3: cheap local '@x' defined before any normal label"),
        ("  .res fwd\nfwd = 3\n", "t.s:1:8: constant expression expected"),
        ("  nop\n  .include \"inc.s\"\n", "inc.s:2:8: range error: 256"),
        ("P = Q\nQ = P\n  lda P\n", "t.s:3:7: circular reference"),
        ("  lda #1/0\n", "t.s:1:"),
        ("  lda (1),z\n", "t.s:1:11: expected register y"),
        ("  lda 5 6\n", "t.s:1:9: unexpected tokens"),
        ("  .import foo\n", "t.s:1:3: .import is not supported"),
        ("  .export nothere\n", "t.s:1:11: exported symbol 'nothere' is undefined"),
        ("  .segment \"NOWHERE\"\n  nop\n", "segment 'NOWHERE' (1 bytes) has no SEGMENTS entry"),
        ("  .res $1001\n", "segment 'CODE' (4097 bytes at $8000) overflows memory area 'ROM' ($8000, 4096 bytes) by 1 bytes"),
        ("  .foo 1\n", "t.s:1:3: unsupported directive '.foo'"),
        (".if 0\n.else\n.else\n.endif\n", "t.s:3:1: .else after .else"),
        ("  lda z:$1234\n", "t.s:1:3: illegal addressing mode"),
        ("x: nop\n  lda x\n", "t.s:1:1: 'x' is a register name"),
    ];
    let cc65 = have_cc65();
    for (src, want) in cases {
        let got = error_of(src);
        assert!(
            got.contains(want),
            "source:\n{src}\nwant: {want}\ngot:  {got}"
        );
        // Everything we reject, ca65 + ld65 reject too (`.import` of an unused symbol is
        // legal there; we refuse it on purpose. ca65 2.19 reports the circular definition
        // and then never exits, so that case is not run through it).
        if cc65 && !src.contains(".import") && !src.contains("P = Q") {
            let files = SourceSet::new()
                .with("t.s", *src)
                .with("inc.s", "  nop\n  lda #$100\n");
            assert!(
                reference(&files, "t.s", SNIPPET_CFG).is_err(),
                "ca65/ld65 accept what we reject:\n{src}"
            );
        }
    }
}

/// The player's folder: `NESMM_PLAYER_ASM` if set, else `<crate>/asm` (present once the `rom`
/// branch is merged).
fn player_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NESMM_PLAYER_ASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("asm"));
    dir.join("rom.s").is_file().then_some(dir)
}

#[test]
fn player_sources_match_ca65() {
    let Some(dir) = player_dir() else {
        skip::skip("player sources (asm/rom.s) not found");
        return;
    };
    if !have_cc65() {
        return;
    }
    // Minimal generated song files with one song; the player's own tests cover real songs.
    let songs_s = "music_song_lo: .byte <music_song_0\nmusic_song_hi: .byte >music_song_0\n\
                   music_name_lo: .byte <music_name_0\nmusic_name_hi: .byte >music_name_0\n\
                   music_title: .byte \"T\", 0\nmusic_name_0: .byte \"S\", 0\nmusic_song_0: .byte 0, 0\n";
    let mut compared = 0;
    for (cfg_name, uxrom) in [("nrom.cfg", 0), ("uxrom.cfg", 1)] {
        let Ok(cfg) = std::fs::read_to_string(dir.join(cfg_name)) else {
            continue;
        };
        // The UxROM template repeats its %BANK...% lines per switchable bank (3 here).
        let cfg: String = cfg
            .lines()
            .flat_map(|l| {
                match l
                    .strip_prefix("%BANK_MEMORY%")
                    .or_else(|| l.strip_prefix("%BANK_SEGMENT%"))
                {
                    Some(body) => (0..3)
                        .map(|n| body.replace("%n%", &n.to_string()))
                        .collect::<Vec<_>>(),
                    None => vec![l.to_string()],
                }
            })
            .map(|l| l + "\n")
            .collect();
        let mut files = SourceSet::from_dir(&dir).unwrap();
        files.insert(
            "songs.inc",
            format!("MAPPER_UXROM = {uxrom}\nMUSIC_SONG_COUNT = 1\n"),
        );
        files.insert("songs.s", songs_s);
        match reference(&files, "rom.s", &cfg) {
            Ok(theirs) => {
                let ours = assemble_and_link(&files, "rom.s", &cfg)
                    .unwrap_or_else(|e| panic!("{cfg_name}: {e}"));
                assert!(
                    ours.image == theirs,
                    "{cfg_name}: player image differs from ca65/ld65"
                );
                compared += 1;
            }
            // The generated-file contract changed: the rom helper's own identity test covers it.
            Err(e) => println!("skipping {cfg_name}: ca65 rejects the minimal song files: {e}"),
        }
    }
    println!("player images compared: {compared}");
}

#[test]
fn hostile_input_is_an_error_not_a_crash() {
    let deep = format!("  lda {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    assert!(error_of(&deep).contains("nested deeper"));
    let long = format!("start:\n  .word {}\n", vec!["start"; 5000].join("+"));
    assert!(error_of(&long).contains("more than 1000 operands"));
    let unary = format!("  lda #{}1\n", "-".repeat(5000));
    assert!(error_of(&unary).contains("more than 1000 operands"));
    let chain: String = (0..2000)
        .map(|i| format!("S{i} = S{} + 1\n", i + 1))
        .collect::<String>()
        + "S2000 = 1\n  .word S0\n";
    assert!(error_of(&chain).contains("nested deeper than 256"));
    assert!(error_of("  .res $7FFFFFFF\n").contains("16 MiB"));
    assert!(error_of("  .res -1\n").contains("negative"));
    assert!(error_of("  .include \"t.s\"\n").contains("include itself"));
    let files = SourceSet::new().with("t.s", "  nop\n");
    let huge =
        "MEMORY { M: start = 0, size = $FFFFFFFF, fill = yes; } SEGMENTS { CODE: load = M; }";
    assert!(assemble_and_link(&files, "t.s", huge)
        .unwrap_err()
        .to_string()
        .contains("past $FFFFFF"));
    for bad in [
        "MEMORY { M: start = }",
        "SEGMENTS { CODE: load = NOPE; }",
        "FILES { }",
        "MEMORY { M: start = 0, bank = 1; }",
    ] {
        assert!(assemble_and_link(&files, "t.s", bad).is_err(), "{bad}");
    }
    let binary = SourceSet::new().with("t.s", vec![0xFFu8, 0xFE, 0x00]);
    assert!(assemble_and_link(&binary, "t.s", SNIPPET_CFG)
        .unwrap_err()
        .to_string()
        .contains("UTF-8"));
    assert!(assemble_and_link(&files, "missing.s", SNIPPET_CFG)
        .unwrap_err()
        .to_string()
        .contains("missing.s"));
}

/// Random programs from the supported subset (fixed seeds): every official instruction and
/// mode with operands mixing zero-page and absolute labels, early and forward constants,
/// folded constant expressions, `a:`/`z:` prefixes, local labels and branches, plus data.
fn random_program(seed: u64) -> String {
    use nesmm::assembler::opcodes::{self, Mode};
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = String::from(".segment \"ZEROPAGE\"\n");
    for i in 0..6 {
        s += &format!("z{i}: .res {}\n", rng.random_range(1..4));
    }
    s += ".segment \"BSS\"\n";
    for i in 0..4 {
        s += &format!("b{i}: .res {}\n", rng.random_range(1..40));
    }
    s += ".segment \"CODE\"\n";
    for i in 0..6 {
        let v: u32 = if rng.random_bool(0.5) {
            rng.random_range(0..0x100)
        } else {
            rng.random_range(0x100..0x10000)
        };
        s += &format!("c{i} = ${v:X}\n");
    }
    s += "s0 = $12\ns1 = s0 + 1\ns2 := $3456\n";
    let zp_ops = [
        "z0",
        "z1+1",
        "z2",
        "s0",
        "s1",
        "$0010",
        "<b0",
        ">c0",
        "c0 & $FF",
        "z3 - z3 + 2",
        "s2 - s2 + 5",
        "z:f0",
        "z:z1 - z1 + 3",
        "z4*1",
    ];
    let abs_ops = [
        "b0",
        "b1+2",
        "c0",
        "c1",
        "c2 | $100",
        "s2",
        "f0",
        "f1",
        "fl",
        "a:z0",
        "a:s0",
        "b0 - b0 + c3",
        "lab3",
        "code_end",
    ];
    let mnems: Vec<&str> = opcodes::mnemonics().collect();
    let mut label = 0;
    s += "lab0:\n";
    for line in 0..300 {
        if line % 7 == 6 {
            label += 1;
            s += &format!("lab{label}:\n@l{label}: ");
        }
        let m = mnems[rng.random_range(0..mnems.len())];
        let ins = opcodes::find(m).unwrap();
        let (mode, _) = ins.modes()[rng.random_range(0..ins.modes().len())];
        let pick = |rng: &mut StdRng, list: &[&'static str]| list[rng.random_range(0..list.len())];
        let zp = pick(&mut rng, &zp_ops);
        let any = if rng.random_bool(0.5) {
            zp
        } else {
            pick(&mut rng, &abs_ops)
        };
        let operand = match mode {
            Mode::Imp => String::new(),
            Mode::Acc => {
                if rng.random_bool(0.5) {
                    " a".into()
                } else {
                    String::new()
                }
            }
            Mode::Imm => format!(
                " #{}",
                pick(
                    &mut rng,
                    &[
                        "<c0",
                        ">c1",
                        "s0",
                        "s1 + 1",
                        "'x'",
                        "<lab1",
                        ">code_end",
                        "c2 & $7F",
                        "^$123456",
                        ".lobyte(b1)",
                        "%1010"
                    ]
                )
            ),
            // `z:` needs a zero-page form of the instruction.
            Mode::Zp | Mode::Abs if ins.opcode(Mode::Zp).is_none() => {
                format!(" {}", any.trim_start_matches("z:"))
            }
            Mode::Zp | Mode::Abs => format!(" {any}"),
            Mode::ZpX | Mode::AbsX if ins.opcode(Mode::AbsX).is_none() => format!(" {zp},x"),
            Mode::ZpX | Mode::AbsX => format!(" {any},x"),
            Mode::ZpY | Mode::AbsY if ins.opcode(Mode::AbsY).is_none() => format!(" {zp},y"),
            Mode::ZpY | Mode::AbsY if ins.opcode(Mode::ZpY).is_none() => {
                format!(" {},y", any.trim_start_matches("z:"))
            }
            Mode::ZpY | Mode::AbsY => format!(" {any},y"),
            Mode::Ind => format!(" ({})", pick(&mut rng, &["b0", "c1", "vec", "s2"])),
            Mode::IndX => format!(" ({},x)", zp.trim_start_matches("z:")),
            Mode::IndY => format!(" ({}),y", zp.trim_start_matches("z:")),
            Mode::Rel => {
                let target = if rng.random_bool(0.5) {
                    format!("@l{label}")
                } else {
                    "*+2".into()
                };
                if label == 0 {
                    " *".into()
                } else {
                    format!(" {target}")
                }
            }
        };
        s += &format!("    {m}{operand}\n");
    }
    s += "code_end:\nvec: .word lab0\n.segment \"RODATA\"\n";
    for _ in 0..20 {
        s += &format!(
            "    .byte {}, <lab2, >b3, s1, \"ab\", c0 & $FF\n    .word {}, lab1 - lab0, *\n",
            rng.random_range(0..256),
            pick_word(&mut rng)
        );
    }
    s += "f0 = $21\nf1 = $4321\n.segment \"ZEROPAGE\"\nfl: .res 1\n";
    s
}

fn pick_word(rng: &mut rand::rngs::StdRng) -> &'static str {
    use rand::Rng;
    ["b0", "c1", "f1", "lab3 + 2", "code_end - 1", "s2", "z1"][rng.random_range(0..7)]
}

#[test]
fn random_programs_match_ca65() {
    for seed in 0..32 {
        let src = random_program(seed);
        // DUMP_RANDOM=1 keeps the programs for debugging a mismatch.
        if std::env::var_os("DUMP_RANDOM").is_some() {
            std::fs::write(std::env::temp_dir().join(format!("r{seed}.s")), &src).unwrap();
        }
        let files = SourceSet::new().with("r.s", src);
        let cfg = SNIPPET_CFG.replace("size = $1000", "size = $2000");
        assert_same(&files, "r.s", &cfg);
    }
}

#[test]
fn org_assembles_for_another_address_like_ca65() {
    // Code copied to RAM at run time: assembled for $0300, stored in ROM after `start`; `*`,
    // labels, branches and jumps inside it use $03xx; `.reloc` goes back; another segment
    // keeps its own mode.
    let src = "
.segment \"CODE\"
start:
    ldx #ram_end - ram_code
    jmp start
.org $0300
ram_code:
    lda #<ram_code
    ldx #>*
    bne @skip
    jmp ram_code
@skip:
    sta ram_var
ram_var:
    .byte 0
    .word ram_var, *
ram_end:
.reloc
after:
    jmp after
.segment \"RODATA\"
table:
    .word table, ram_code, after
";
    let files = SourceSet::new().with("org.s", src);
    let ours = assert_same(&files, "org.s", SNIPPET_CFG)
        .unwrap_or_else(|| assemble_and_link(&files, "org.s", SNIPPET_CFG).unwrap());
    assert_eq!(ours.symbols["ram_code"], 0x0300);
    assert_eq!(ours.symbols["start"], 0x8000);
    // start: ldx # (2 bytes) + jmp (3), then 17 bytes assembled for $0300.
    assert_eq!(ours.symbols["ram_end"], 0x0300 + 17);
    assert_eq!(ours.symbols["after"], 0x8000 + 5 + 17);
    assert_eq!(ours.image[5..8], [0xA9, 0x00, 0xA2]);
    // The .org address must be a number the assembler knows.
    let bad = SourceSet::new().with("bad.s", ".org later\nlater:\n");
    let err = assemble_and_link(&bad, "bad.s", SNIPPET_CFG).unwrap_err();
    assert!(err.to_string().contains("bad.s:1"), "{err}");
}
