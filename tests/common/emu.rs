//! Runs built ROMs in tetanes-core and records what the player writes to the APU, frame by
//! frame, with the CPU cycles music_update took.

use nesmm::rom::Rom;
use nesmm::{ApuStream, RegWrite};
use std::io::Cursor;
use tetanes_core::control_deck::{Clocked, Config, ControlDeck, HeadlessMode};
use tetanes_core::debug::Access;
use tetanes_core::input::{JoypadBtnState, Player};
use tetanes_core::memory::RamState;

/// A console running a ROM with the APU registers watched.
pub struct Console {
    pub deck: ControlDeck,
    stub: u16,
    /// The voice blocks, which write mask streams: `music_blocks .. music_blocks_end`.
    mask_code: std::ops::Range<u16>,
    update: u16,
    done: u16,
}

/// What one NMI did.
#[derive(Debug, Default, Clone)]
pub struct NmiRecord {
    /// Player writes (through `music_stub` or the voice blocks) between the previous NMI's
    /// music and this one (music_start_song's init writes).
    pub before: Vec<RegWrite>,
    /// The music writes of this NMI.
    pub writes: Vec<RegWrite>,
    /// CPU cycles from music_update's first instruction to the return to nmi_music_done.
    pub cycles: u32,
    /// Writes to $4000-$4017 from any other code since the previous NMI's music (reset's
    /// frame counter and DMC set-up, the controller strobe).
    pub other: Vec<RegWrite>,
    /// Reads of $4000-$7FFF other than the controller port $4016: (pc, address).
    pub open_bus_reads: Vec<(u16, u16)>,
}

impl Console {
    pub fn new(rom: &Rom, ram: RamState) -> Console {
        let mut cfg = Config::default()
            .with_ram_state(ram)
            .with_headless_mode(HeadlessMode::NO_AUDIO | HeadlessMode::NO_VIDEO)
            .with_emulate_ppu_warmup(true);
        cfg.sram_dir = None;
        let mut deck = ControlDeck::with_config(cfg);
        deck.load_rom("test.nes", &mut Cursor::new(rom.bytes.clone()))
            .expect("tetanes loads the ROM");
        deck.set_breakpoints([
            super::logging_breakpoint(0x4000, 0x4017, Access::WRITE),
            // The write-only APU registers and the unmapped $4018-$7FFF read as open bus.
            super::logging_breakpoint(0x4000, 0x7FFF, Access::READ),
        ]);
        let sym = |n: &str| {
            *rom.symbols
                .get(n)
                .unwrap_or_else(|| panic!("no symbol {n}"))
        };
        Console {
            deck,
            stub: sym("music_stub"),
            mask_code: sym("music_blocks")..sym("music_blocks_end"),
            update: sym("music_update"),
            done: sym("nmi_music_done"),
        }
    }

    /// The APU writes since the last call: the player's, and every other code's; reads of
    /// $4000-$7FFF other than the controller go to `open_bus`.
    fn apu_writes(&mut self, open_bus: &mut Vec<(u16, u16)>) -> (Vec<RegWrite>, Vec<RegWrite>) {
        let (stub, mask) = (self.stub, self.mask_code.clone());
        let mut player = Vec::new();
        let mut other = Vec::new();
        for h in self.deck.drain_access_log() {
            if h.access == Access::READ {
                if h.addr != 0x4016 {
                    open_bus.push((h.pc, h.addr));
                }
                continue;
            }
            if h.access != Access::WRITE {
                continue;
            }
            let w = RegWrite::new(h.addr, h.value);
            if h.pc == stub || mask.contains(&h.pc) {
                player.push(w);
            } else {
                other.push(w);
            }
        }
        (player, other)
    }

    fn run_to(&mut self, pc: u16) {
        for _ in 0..5 {
            match self.deck.clock_frame_until(|b| b.cpu.pc == pc) {
                Ok(Clocked::Stopped) => return,
                Ok(_) => {}
                Err(e) => panic!("emulation failed: {e:?}"),
            }
        }
        panic!("the CPU did not reach ${pc:04X} within 5 frames");
    }

    /// Runs to the end of the next NMI's music update.
    pub fn nmi(&mut self) -> NmiRecord {
        self.run_to(self.update);
        let mut open_bus_reads = Vec::new();
        let (before, mut other) = self.apu_writes(&mut open_bus_reads);
        let c0 = self.deck.bus().cpu.cycle;
        self.run_to(self.done);
        let cycles = self.deck.bus().cpu.cycle.wrapping_sub(c0);
        let (writes, during) = self.apu_writes(&mut open_bus_reads);
        other.extend(during);
        NmiRecord {
            before,
            writes,
            cycles,
            other,
            open_bus_reads,
        }
    }

    /// Holds or releases a controller 1 button.
    pub fn button(&mut self, b: JoypadBtnState, pressed: bool) {
        self.deck.joypad_mut(Player::One).set_button(b, pressed);
    }
}

/// Frame `i` of a song played on and on (looping or silent after the end).
pub fn expected_frame(s: &ApuStream, i: usize) -> &[RegWrite] {
    if i < s.len() {
        return s.frame(i);
    }
    match s.loop_frame.filter(|&l| l < s.len()) {
        Some(l) => s.frame(l + (i - s.len()) % (s.len() - l)),
        None => &[],
    }
}

/// Plays `frames` NMIs of song 0 and checks every write against the stream; returns cycles.
pub fn check_song(rom: &Rom, s: &ApuStream, frames: usize, ram: RamState) -> Vec<u32> {
    let mut c = Console::new(rom, ram);
    let first = c.nmi();
    assert_eq!(first.before, s.init, "init writes of '{}'", s.name);
    // Besides the player only reset's set-up and the controller strobe touch the APU.
    let reset = [RegWrite::new(0x4017, 0x40), RegWrite::new(0x4010, 0x00)];
    let strobe = |w: &RegWrite| w.addr == 0x4016;
    let others: Vec<_> = first.other.iter().filter(|w| !strobe(w)).collect();
    assert_eq!(
        others,
        reset.iter().collect::<Vec<_>>(),
        "reset's APU writes"
    );
    assert!(
        first.open_bus_reads.is_empty(),
        "open-bus reads (pc, address): {:?}",
        first.open_bus_reads
    );
    let mut cycles = vec![first.cycles];
    assert_eq!(first.writes, expected_frame(s, 0), "'{}' frame 0", s.name);
    let model = rom
        .music_cycles(0, frames)
        .expect("the reference decoder reads the song");
    for i in 1..frames {
        let r = c.nmi();
        assert!(
            r.before.is_empty(),
            "writes outside the NMI at frame {i}: {:?}; in it {:?}; want {:?}",
            r.before,
            r.writes,
            expected_frame(s, i)
        );
        assert_eq!(r.writes, expected_frame(s, i), "'{}' frame {i}", s.name);
        assert!(
            r.other.iter().all(strobe),
            "'{}' frame {i}: APU writes from outside the player: {:?}",
            s.name,
            r.other
        );
        assert!(
            r.open_bus_reads.is_empty(),
            "'{}' frame {i}: open-bus reads (pc, address): {:?}",
            s.name,
            r.open_bus_reads
        );
        cycles.push(r.cycles);
    }
    // The reference decoder counts every cycle but those of a branch or a phrase-table read
    // that crosses a page, and DMC sample fetches that stall the CPU (a song that enables the
    // DMC: only synthetic ones do).
    let dmc = s
        .init
        .iter()
        .chain(s.frames().flatten())
        .any(|w| w.addr == 0x4015 && w.value & 0x10 != 0);
    // NESMM_CYCLE_SLACK widens the bound (a long run that reports the excess itself).
    let slack = std::env::var("NESMM_CYCLE_SLACK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MAX_PAGE_CROSSING_CYCLES);
    let slack = if dmc { u32::MAX / 2 } else { slack };
    for (i, (&c, &m)) in cycles.iter().zip(&model).enumerate() {
        assert!(
            (m..=m + slack).contains(&c),
            "'{}' frame {i}: music_update took {c} cycles, the reference decoder counts {m}",
            s.name
        );
    }
    cycles
}

/// Most cycles page crossings add to one frame's music_update beyond what
/// `Rom::music_cycles` counts: 15 measured over 1,650 whole NES-MDB songs (shards 0-4/16) with
/// nested and near references, whose paths have more branches that may cross a page. With the
/// encoder's cap of 730 counted cycles this keeps every frame within 750.
pub const MAX_PAGE_CROSSING_CYCLES: u32 = 16;
