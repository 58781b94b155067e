//! The reference decoder's cycle costs (`decode.rs`, `mod cost`) and the encoder's estimates
//! (`encode.rs`) checked against the player itself: the assembler's cycle listing of the
//! linked player ([`crate::assembler::Listing`]), walked path by path.

use crate::apu_stream::{ApuStream, RegWrite};
use crate::assembler::opcodes::{self, Mode};
use crate::assembler::{assemble_and_link, Linked, Listing, SourceSet};
use crate::error::Result;
use crate::region::Region;
use crate::rom::build::rom::{build_rom_with, BuildOptions};
use crate::rom::codec::cost::estimate as encode;
use crate::rom::codec::cost::*;

use crate::rom::build::player::{self, LinkedPrg};
use std::cell::RefCell;

/// Source files, the main file and the linker config of one build.
type Captured = (Vec<(String, Vec<u8>)>, String, String);

thread_local! {
    /// The sources and linker config of the last ROM [`capture`] assembled on this thread.
    static SOURCES: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

fn capture(files: &[(String, Vec<u8>)], main: &str, config: &str) -> Result<LinkedPrg> {
    SOURCES.with(|s| *s.borrow_mut() = Some((files.to_vec(), main.into(), config.into())));
    player::assemble_with_nesmm(files, main, config)
}

/// The player of a one-song ROM, linked by our assembler (UxROM when `uxrom`).
pub(crate) fn linked_player(uxrom: bool) -> Linked {
    let mut song = ApuStream::new("cycles", Region::Ntsc);
    song.push_frame(&[RegWrite::new(0x4000, 0x30)]);
    let opts = BuildOptions {
        force_uxrom: uxrom,
        ..Default::default()
    };
    build_rom_with(&[song], &opts, capture).expect("the ROM builds");
    let (files, main, config) = SOURCES
        .with(|s| s.borrow_mut().take())
        .expect("the build assembled the player");
    let mut set = SourceSet::new();
    for (name, text) in files {
        set.insert(name, text);
    }
    assemble_and_link(&set, &main, &config).expect("the player links")
}

/// The cycles of one way through the player (see [`Listing::walk`]) less what branches that
/// cross a page add: the reference decoder leaves those out (the emulator tests measure them,
/// and [`hot_branches_that_cross_a_page`] names them).
fn walk(l: &Listing, from: &str, branches: &[bool], until: &[&str]) -> u32 {
    let w = l
        .walk(from, branches, until)
        .unwrap_or_else(|e| panic!("{e}"));
    w.cycles - w.crossings.len() as u32
}

/// A label of voice block `block` (`control`, `pulse1` ...).
fn blk(block: &str, label: &str) -> String {
    format!("mb_{block}::{label}")
}

/// The write stub music_init builds in zero page: `sta $40rr` and `jmp music_write_done`.
fn stub_cycles() -> u32 {
    let cycles = |m: &str| {
        let t = opcodes::find(m).and_then(|i| i.timing(Mode::Abs));
        u32::from(t.expect("an absolute form").base)
    };
    cycles("sta") + cycles("jmp")
}

const T: bool = true;
const F: bool = false;

#[test]
fn music_update_clock_costs_match_the_listing() {
    let (nrom, ux) = (linked_player(false), linked_player(true));
    let (l, u) = (nrom.listing(), ux.listing());
    assert_eq!(walk(&l, "music_update", &[T], &[]), NO_STREAMS);
    assert_eq!(walk(&l, "music_update", &[F, F], &[]), NO_TICK);
    let tick = walk(&l, "music_update", &[F, T], &[]) + walk(&l, "mu_done", &[], &[]);
    assert_eq!(tick, TICK);
    assert_eq!(
        walk(&u, "mu_done", &[], &[]) - walk(&l, "mu_done", &[], &[]),
        UXROM_DONE
    );
}

#[test]
fn voice_block_costs_match_the_listing() {
    let (nrom, ux) = (linked_player(false), linked_player(true));
    let (l, u) = (nrom.listing(), ux.listing());
    let (entry, cmd) = (blk("pulse1", "entry"), blk("pulse1", "cmd"));
    let w = |b: &[bool]| walk(&l, &cmd, b, &[]);
    assert_eq!(walk(&l, &entry, &[T], &[]), BLOCK_IDLE);
    assert_eq!(walk(&l, &entry, &[F], &[&cmd]), BLOCK_START);
    assert_eq!(walk(&u, &entry, &[F], &[&cmd]), BLOCK_START + UXROM_BLOCK);
    // A mask command: bmi, the four bits (taken: not written), the refs test, the fold test.
    let none = w(&[F, T, T, T, T, F, F]);
    assert_eq!(none, READ + MASK + BLOCK_END_FAST);
    assert_eq!(
        w(&[F, F, T, T, T, F, F]) - none,
        MASK_WRITE + SHADOW,
        "$4000 is shadowed"
    );
    assert_eq!(w(&[F, T, F, T, T, F, F]) - none, MASK_WRITE, "$4001 is not");
    assert_eq!(w(&[F, T, T, T, T, F, T]) - none, BLOCK_END_FOLD);
    // Inside a reference: counted, or the last command (back, to the outer one, from both).
    assert_eq!(w(&[F, T, T, T, T, T, T, F]), READ + MASK + BLOCK_END_COUNT);
    let back = w(&[F, T, T, T, T, T, F, F]);
    assert_eq!(back, READ + MASK + BLOCK_END_RETURN);
    assert_eq!(w(&[F, T, T, T, T, T, F, T, F]) - back, RETURN_TO_OUTER);
    assert_eq!(w(&[F, T, T, T, T, T, F, T, T, F]) - back, RETURN_FROM_BOTH);
    // A volume command, and the volume test before the shared special commands: a wait
    // ($80-$DF) and a stop ($F0-$FF) of a voice block, a wait of the control block.
    assert_eq!(w(&[T, F, F, F, F]), READ + VOLUME + BLOCK_END_FAST);
    let wait = READ + BLOCK_SPECIAL + WAIT + FRAME_END + SPECIAL_ENDED;
    assert_eq!(w(&[T, T, F, T, F, F]), wait + VOLUME_TEST_LOW);
    let stop = READ + BLOCK_SPECIAL + VOLUME_TEST_HIGH + STOP + SPECIAL_ENDED;
    assert_eq!(w(&[T, F, T, T, F, F, F, T, F, T, F]), stop);
    assert_eq!(
        walk(&l, &blk("control", "cmd"), &[T, F, T, F, F], &[]),
        wait
    );
    // A reference: decoding goes on with the block's next read.
    let near = READ + BLOCK_SPECIAL + VOLUME_TEST_LOW + NEAR_REF + SPECIAL_GO_ON;
    assert_eq!(walk(&l, &cmd, &[T, T, T, F, T, T], &[&cmd]), near);
}

#[test]
fn shared_command_costs_match_the_listing() {
    let (nrom, ux) = (linked_player(false), linked_player(true));
    let (l, u) = (nrom.listing(), ux.listing());
    let fe = |b: &[bool]| walk(&l, "mu_frame_end", b, &[]);
    assert_eq!(fe(&[T, F]), FRAME_END);
    assert_eq!(fe(&[T, T]) - fe(&[T, F]), FOLD);
    assert_eq!(fe(&[F, T, F]), FRAME_END_COUNT);
    assert_eq!(fe(&[F, F, F]), FRAME_END_RETURN);
    // mu_special: a wait, then the dispatch of $90-$FF (bcs, the nesting test, the kinds).
    let sp = |b: &[bool]| walk(&l, "mu_special", b, &[]);
    assert_eq!(sp(&[F, T, F]), WAIT + FRAME_END);
    assert_eq!(sp(&[T, F, T]), NEAR_REF);
    assert_eq!(sp(&[T, T, T]) - sp(&[T, F, T]), NEST);
    assert_eq!(sp(&[T, F, F, T]), PHRASE);
    assert_eq!(sp(&[T, F, F, F, F]), SHORT_REF);
    assert_eq!(sp(&[T, F, F, F, T, T]), LONG_REF);
    assert_eq!(sp(&[T, F, F, F, T, F, F]), JUMP);
    let ux_jump = walk(&u, "mu_special", &[T, F, F, F, T, F, F], &[]);
    assert_eq!(ux_jump - JUMP, UXROM_JUMP);
    assert_eq!(sp(&[T, F, F, F, T, F, T]), STOP);
}

#[test]
fn pairs_loop_costs_match_the_listing() {
    let (nrom, ux) = (linked_player(false), linked_player(true));
    let (l, u) = (nrom.listing(), ux.listing());
    assert_eq!(walk(&l, "mu_pairs_start", &[T], &["mu_done"]), PAIRS_LOOP);
    let next = ["mu_pairs_next"];
    assert_eq!(
        walk(&l, "mu_pairs_next", &[F, F], &next),
        PAIRS_STEP + PAIRS_IDLE
    );
    let cmd = ["mu_pairs_cmd"];
    assert_eq!(
        walk(&l, "mu_pairs_next", &[F, T], &cmd),
        PAIRS_STEP + PAIRS_PLAY
    );
    let ux_play = walk(&u, "mu_pairs_next", &[F, T], &cmd);
    assert_eq!(ux_play, PAIRS_STEP + PAIRS_PLAY + UXROM_PAIRS);
    assert_eq!(walk(&l, "mu_pairs_cmd", &[T], &cmd), PAIRS_FOLD);
    // A write command: up to the stub, the stub, then from music_write_done: the frame ends
    // (one write; two) or goes on.
    let stub = ["music_stub"];
    let first = walk(&l, "mu_pairs_cmd", &[F, F], &stub) + stub_cycles();
    let done = |b: &[bool], until: &[&str]| walk(&l, "music_write_done", b, until);
    let ends = first + done(&[F, F, T, F], &next);
    let writes = PAIRS_READ + PAIRS_WRITES + PAIRS_WRITE - 1;
    assert_eq!(ends, writes + PAIRS_ENDS + FRAME_END);
    let second = done(&[T], &stub) + stub_cycles();
    assert_eq!(ends + second, writes + PAIRS_WRITE + PAIRS_ENDS + FRAME_END);
    assert_eq!(
        first + done(&[F, T, T, F], &cmd),
        writes + PAIRS_GOES_ON + FRAME_END
    );
    // Special commands: a wait ends the frame, a near reference goes on.
    let wait = PAIRS_READ + PAIRS_SPECIAL + WAIT + FRAME_END + PAIRS_SPECIAL_ENDED;
    assert_eq!(walk(&l, "mu_pairs_cmd", &[F, T, F, T, F, F], &next), wait);
    let near = PAIRS_READ + PAIRS_SPECIAL + NEAR_REF + PAIRS_SPECIAL_GO_ON;
    assert_eq!(walk(&l, "mu_pairs_cmd", &[F, T, T, F, T, T], &cmd), near);
}

#[test]
fn rom_players_keep_their_hot_branches_in_page() {
    // The `same_page` guards of asm/music.s and asm/music_blocks.s warn when a hot branch
    // crosses a page; in a ROM the player's code does not move with the songs.
    for uxrom in [false, true] {
        let linked = linked_player(uxrom);
        assert!(linked.warnings.is_empty(), "{:?}", linked.warnings);
    }
}

#[test]
fn encoder_estimates_match_the_listing_or_are_pinned() {
    let l = linked_player(false);
    let l = l.listing();
    // Exact: each is a sum of decoder costs the tests above check.
    assert_eq!(
        encode::IDLE_BLOCK_CYCLES,
        walk(&l, "mb_pulse1::entry", &[T], &[])
    );
    let idle_pairs = walk(&l, "mu_pairs_next", &[F, F], &["mu_pairs_next"]);
    assert_eq!(encode::IDLE_PAIRS_CYCLES, idle_pairs);
    assert_eq!(
        encode::PAIRS_LOOP_CYCLES,
        walk(&l, "mu_pairs_start", &[T], &["mu_done"])
    );
    let mask = walk(&l, "mb_pulse1::entry", &[F, F, T, T, T, T, F, F], &[]);
    assert_eq!(encode::MASK_STREAM_CYCLES, mask);
    assert_eq!(
        encode::MASK_WRITE_CYCLES + encode::SHADOW_CYCLES,
        MASK_WRITE + SHADOW
    );
    let one_write = walk(&l, "mu_pairs_next", &[F, T, F, F], &["music_stub"])
        + stub_cycles()
        + walk(&l, "music_write_done", &[F, F, T, F], &["mu_pairs_next"]);
    assert_eq!(
        encode::PAIRS_STREAM_CYCLES + encode::PAIRS_WRITE_CYCLES,
        one_write
    );
    // Estimates, with the exact figures they stand for: a change to the player or to an
    // estimate must be looked at here (changing an estimate changes the encoder's choices,
    // so every song's ROM bytes: see tests/rom_nesmdb.rs, nesmdb_all_roms_hash).
    let tick = walk(&l, "music_update", &[F, T], &[]) + walk(&l, "mu_done", &[], &[]);
    assert_eq!((encode::TICK_CYCLES, tick), (66, 55));
    let block = |b: &[bool]| walk(&l, "mb_pulse1::entry", b, &[]) - BLOCK_IDLE;
    let wait = block(&[F, T, T, F, T, F, F]);
    assert_eq!((encode::WAIT_COMMAND_CYCLES, wait), (70, 67));
    let stop = block(&[F, T, F, T, T, F, F, F, T, F, T, F]);
    assert_eq!((encode::STOP_COMMAND_CYCLES, stop), (80, 97));
    let volume = walk(&l, "mb_pulse1::entry", &[F, T, F, F, F, F], &[]);
    assert_eq!((encode::VOLUME_CYCLES, volume), (56, 64));
    // A reference entered from a voice block, up to the read of its first command.
    let cmd = ["mb_pulse1::cmd"];
    let enter = |b: &[bool]| walk(&l, "mb_pulse1::cmd", b, &cmd) + READ;
    let near = enter(&[T, T, T, F, T, T]);
    let phrase = enter(&[T, T, T, F, F, T, T]);
    let short = enter(&[T, F, T, T, F, F, F, F, T]);
    let long = enter(&[T, F, T, T, F, F, F, T, T, T]);
    assert_eq!(
        (encode::REF_ENTRY_CYCLES, near, short, phrase, long),
        (146, 151, 146, 161, 158)
    );
}
