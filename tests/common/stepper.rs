//! Steps a ROM in tetanes-core instruction by instruction: APU and PPU writes per frame (NMI),
//! the scanline of each PPU write, the cycles a routine takes, the nametable, the controller.

use nesmm::RegWrite;
use std::collections::BTreeMap;
use tetanes_core::control_deck::ControlDeck;
use tetanes_core::debug::Access;
use tetanes_core::input::{JoypadBtn, Player};

/// One write the CPU made: the instruction's address, the register and value, and the
/// scanline the PPU was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write {
    pub pc: u16,
    pub addr: u16,
    pub value: u8,
    pub scanline: u16,
}

/// Cycles of each call of one routine, from its first instruction to its return.
#[derive(Debug, Default, Clone)]
pub struct Calls {
    pub cycles: Vec<u32>,
}

impl Calls {
    pub fn max(&self) -> u32 {
        self.cycles.iter().copied().max().unwrap_or(0)
    }
    pub fn mean(&self) -> f64 {
        self.cycles.iter().map(|&c| f64::from(c)).sum::<f64>() / self.cycles.len().max(1) as f64
    }
}

pub struct Emu {
    pub deck: ControlDeck,
    pub symbols: BTreeMap<String, u16>,
    nmi: u16,
    /// Routines timed: entry address -> calls so far.
    pub timed: BTreeMap<u16, Calls>,
    open: Vec<(u16, u16, u32)>,
    /// Cycle at which the NMI handler started, this frame.
    pub nmi_cycle: u32,
}

impl Emu {
    pub fn new(rom: &[u8], symbols: &BTreeMap<String, u16>) -> Emu {
        let mut deck = ControlDeck::new();
        deck.load_rom("test.nes", &mut &rom[..])
            .expect("tetanes loads the ROM");
        deck.set_breakpoints([
            super::logging_breakpoint(0x2000, 0x2007, Access::WRITE),
            super::logging_breakpoint(0x4000, 0x4017, Access::WRITE),
        ]);
        let nmi = symbols["nmi"];
        Emu {
            deck,
            symbols: symbols.clone(),
            nmi,
            timed: BTreeMap::new(),
            open: Vec::new(),
            nmi_cycle: 0,
        }
    }

    pub fn sym(&self, name: &str) -> u16 {
        *self
            .symbols
            .get(name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
    }

    /// Times every call of the routine at `name`.
    pub fn time(&mut self, name: &str) {
        let a = self.sym(name);
        self.timed.insert(a, Calls::default());
    }

    /// Runs to the next NMI entry; returns the writes made until then.
    pub fn frame(&mut self) -> Vec<Write> {
        let mut out = Vec::new();
        let mut steps = 0u32;
        loop {
            self.deck.clock_instr().expect("the CPU runs");
            steps += 1;
            assert!(steps < 200_000, "no NMI for 200,000 instructions");
            let scanline = self.deck.bus().ppu.scanline;
            for hit in self.deck.drain_access_log() {
                out.push(Write {
                    pc: hit.pc,
                    addr: hit.addr,
                    value: hit.value,
                    scanline,
                });
            }
            let cpu = &self.deck.bus().cpu;
            let (pc, cycle, sp) = (cpu.pc, cpu.cycle, cpu.sp);
            if let Some(&(ret, _, start)) = self.open.last() {
                if pc == ret {
                    let (_, entry, _) = self.open.pop().expect("open call");
                    if let Some(c) = self.timed.get_mut(&entry) {
                        c.cycles.push(cycle.wrapping_sub(start));
                    }
                }
            }
            if self.timed.contains_key(&pc) {
                let ram = self.deck.wram();
                let lo = ram[0x100 + usize::from(sp.wrapping_add(1))];
                let hi = ram[0x100 + usize::from(sp.wrapping_add(2))];
                let ret = u16::from_le_bytes([lo, hi]).wrapping_add(1);
                self.open.push((ret, pc, cycle));
            }
            if pc == self.nmi {
                self.nmi_cycle = cycle;
                return out;
            }
        }
    }

    /// Runs `n` frames; returns the player's APU writes in each (those of `music_stub`).
    pub fn music_frames(&mut self, n: usize) -> Vec<Vec<Write>> {
        (0..n)
            .map(|_| {
                let f = self.frame();
                self.music_only(f)
            })
            .collect()
    }

    /// The writes among `writes` made by the player (its `sta $40rr` stub and its mask-mode
    /// write code).
    pub fn music_only(&self, writes: Vec<Write>) -> Vec<Write> {
        writes.into_iter().filter(|w| self.is_music(w)).collect()
    }

    /// Whether the player made `w`.
    pub fn is_music(&self, w: &Write) -> bool {
        w.pc == self.sym("music_stub")
            || (self.sym("music_blocks")..self.sym("music_blocks_end")).contains(&w.pc)
    }

    /// Holds `button` for one frame, then releases it for another; returns both frames' writes.
    pub fn press(&mut self, button: JoypadBtn) -> Vec<Vec<Write>> {
        self.deck.joypad_mut(Player::One).set_button(button, true);
        let first = self.frame();
        self.deck.joypad_mut(Player::One).set_button(button, false);
        vec![first, self.frame()]
    }

    /// Tiles of nametable 0, row `row`, as text (tiles 32..=95 are ASCII; others as '.').
    pub fn row(&self, row: u16) -> String {
        (0..32u16)
            .map(|c| {
                let t = self.deck.bus().ppu_bus_peek(0x2000 + row * 32 + c);
                if (32..96).contains(&t) {
                    t as char
                } else {
                    '.'
                }
            })
            .collect()
    }

    /// Raw tile numbers of nametable 0, row `row`, columns `cols`.
    pub fn tiles(&self, row: u16, cols: std::ops::Range<u16>) -> Vec<u8> {
        cols.map(|c| self.deck.bus().ppu_bus_peek(0x2000 + row * 32 + c))
            .collect()
    }

    pub fn ram(&self, addr: u16) -> u8 {
        self.deck.wram()[usize::from(addr & 0x7FF)]
    }
}

/// The register writes of `writes`.
pub fn reg_writes(writes: &[Write]) -> Vec<RegWrite> {
    writes
        .iter()
        .map(|w| RegWrite::new(w.addr, w.value))
        .collect()
}
