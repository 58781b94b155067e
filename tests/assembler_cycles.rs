//! The assembler's cycle table and listing, `.assert` and `.macro`: against tetanes-core's
//! instruction table, hand-worked programs, and ca65 + ld65 where they are installed.

use nesmm::assembler::opcodes::{self, Mode, PageCost};
use nesmm::assembler::{assemble_and_link, Linked, SourceSet};
use nesmm::rom::player::assemble_with_ca65;
use tetanes_core::cpu::instr::AddrMode;
use tetanes_core::cpu::Cpu;

const CFG: &str = "MEMORY { ZP: start = 0, size = $100, type = rw, file = \"\";\n\
                   PRG: start = $8000, size = $1000, type = ro, fill = yes; }\n\
                   SEGMENTS { ZEROPAGE: load = ZP, type = zp; CODE: load = PRG, type = ro; }\n";

fn link(src: &str) -> nesmm::Result<Linked> {
    assemble_and_link(&SourceSet::new().with("t.s", src), "t.s", CFG)
}

fn ok(src: &str) -> Linked {
    link(src).unwrap_or_else(|e| panic!("{e}"))
}

fn err(src: &str) -> String {
    link(src).expect_err("an error").to_string()
}

/// Where ca65 and ld65 are installed: their image of `src` (else None).
fn ca65_image(src: &str) -> Option<Vec<u8>> {
    let files = [("t.s".to_string(), src.as_bytes().to_vec())];
    match assemble_with_ca65(&files, "t.s", CFG) {
        Ok(p) => Some(p.image),
        Err(e) if e.to_string().contains("No such file") => None,
        Err(e) => panic!("ca65 rejects the program: {e}"),
    }
}

#[test]
fn cycle_table_matches_tetanes_for_all_151_opcodes() {
    let mut checked = 0;
    for m in opcodes::mnemonics() {
        let ins = opcodes::find(m).expect("listed");
        for &(mode, op) in ins.modes() {
            let theirs = Cpu::INSTR_REF[usize::from(op)];
            let t = ins.timing(mode).expect("a timing");
            assert_eq!(t.base, theirs.cycles, "{m} {}", mode.describe());
            let reads_cross = matches!(
                theirs.addr_mode,
                AddrMode::ABX | AddrMode::ABY | AddrMode::IDY
            );
            let expected = match (mode, reads_cross) {
                (Mode::Rel, _) => PageCost::Branch,
                (_, true) => PageCost::Indexed,
                _ => PageCost::None,
            };
            assert_eq!(t.page, expected, "{m} {}", mode.describe());
            checked += 1;
        }
    }
    assert_eq!(checked, 151);
}

#[test]
fn listing_counts_page_crossings_where_addresses_are_known() {
    // A branch at $80FD: the next instruction is at $80FF, its target at $8101 (another page).
    let linked =
        ok(".res $FD, $EA\nstart: beq far\n  nop\n  nop\nfar: lda $12F0,x\n  lda $1200,y\n  rts\n");
    let l = linked.listing();
    let beq = &l.lines[&0x80FD];
    assert_eq!((beq.timing.base, beq.taken_cycles()), (2, Some(4)));
    assert_eq!(beq.cycles_text(), "2/4");
    let lda = &l.lines[&0x8101];
    assert_eq!(
        (lda.crossing_index(), lda.cycles_text().as_str()),
        (Some(0x10), "4/5@$10")
    );
    assert_eq!(
        l.lines[&0x8104].crossing_index(),
        None,
        "$1200,y crosses with no index"
    );
    // The walk: taken and crossing (4), the two reads, rts (6); not taken: the nops too.
    let taken = l.walk("start", &[true], &[]).unwrap();
    assert_eq!((taken.cycles, taken.crossings.len()), (4 + 4 + 4 + 6, 1));
    assert_eq!(
        l.walk("start", &[false], &[]).unwrap().cycles,
        2 + 2 + 2 + 4 + 4 + 6
    );
    let e = l.walk("start", &[true, true], &[]).unwrap_err();
    assert!(e.contains("left over"), "{e}");
    assert!(l
        .walk("start", &[], &[])
        .unwrap_err()
        .contains("no decision"));
    // jsr and rts pair up; `until` stops before the label.
    let linked = ok("main: jsr sub\n  inx\nend: rts\nsub: ldx #1\n  rts\n");
    let l = linked.listing();
    assert_eq!(l.walk("main", &[], &["end"]).unwrap().cycles, 6 + 2 + 6 + 2);
    assert!(l.render().contains("$8000  6"), "{}", l.render());
}

#[test]
fn asserts_are_checked_when_addresses_are_known() {
    let src = "top: .res $F0\n.assert >top = >*, error, \"top and here share a page\"\n.res $20\n\
               .assert >top = >*, warning, \"past the page\"\n";
    let linked = ok(src);
    assert_eq!(linked.warnings.len(), 1);
    assert!(linked.warnings[0].contains("t.s:4") && linked.warnings[0].contains("past the page"));
    let e = err("b: nop\n.assert b = $9000, error, \"b is not at $9000\"\n");
    assert!(
        e.contains("t.s:2") && e.contains("b is not at $9000"),
        "{e}"
    );
    let e = err("b: nop\n.assert late < $80, lderror\nlate = $90\n");
    assert!(e.contains("t.s:2") && e.contains(".assert failed"), "{e}");
    let e = err(".assert 1, fatal, \"x\"\n");
    assert!(e.contains("'fatal'"), "{e}");
    if let Some(theirs) = ca65_image(src) {
        assert_eq!(linked.image, theirs);
    }
}

const MACROS: &str = "ZP = $10\n\
.macro store value, where\n  lda #value\n  sta where\n.endmacro\n\
.macro block slot, flag\nhere:\n  store slot, {ZP,x}\n.if flag\n  bne here\n.endif\n.endmacro\n\
.scope one\n  block 1, 1\n.endscope\n.scope two\n  block 2, 0\n.endscope\n\
  .addr one::here, two::here\n  store $20, $0300\n";

#[test]
fn macros_expand_like_ca65() {
    let linked = ok(MACROS);
    let expected = [
        0xA9, 1, 0x95, 0x10, 0xD0, 0xFA, // one: lda #1, sta ZP,x, bne one::here
        0xA9, 2, 0x95, 0x10, // two
        0x00, 0x80, 0x06, 0x80, // the addresses
        0xA9, 0x20, 0x8D, 0x00, 0x03,
    ];
    assert_eq!(&linked.image[..expected.len()], &expected);
    if let Some(theirs) = ca65_image(MACROS) {
        assert_eq!(linked.image, theirs);
    }
}

#[test]
fn macro_errors_name_where_they_were_used() {
    let e = err(".macro m a\n  lda #a\n.endmacro\n  m 1, 2\n");
    assert!(
        e.contains("t.s:4") && e.contains("takes 1 arguments, not 2"),
        "{e}"
    );
    let e = err(".macro m a\n  lxa #a\n.endmacro\n\n  m 1\n");
    assert!(
        e.contains("t.s:2") && e.contains("'lxa'") && e.contains("used at t.s:5"),
        "{e}"
    );
    let e = err(".macro m\n  nop\n");
    assert!(
        e.contains("t.s:1") && e.contains("without .endmacro"),
        "{e}"
    );
    let e = err(".macro m\n  m\n.endmacro\n  m\n");
    assert!(e.contains("nested deeper"), "{e}");
    let e = err(".macro lda\n.endmacro\n");
    assert!(e.contains("mnemonic"), "{e}");
    let e = err(".endmacro\n");
    assert!(e.contains("without .macro"), "{e}");
}
