//! The cycle listing: every instruction at its linked address with its CPU cycles, page
//! crossings worked out where the linker knows the addresses (a branch's target, an indexed
//! read's base). It is the one place the player's cycle costs come from: tests walk its paths
//! ([`Listing::walk`]) and compare them with the reference decoder's figures
//! (`src/rom/decode.rs`), so asm/ comments need not (and do not) sum cycles by hand.
//!
//! Cycle rules: nesdev wiki, <https://www.nesdev.org/wiki/6502_cycle_times>.

use super::opcodes::{Mode, PageCost, Timing};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One instruction of the linked program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub addr: u32,
    /// Source file and line.
    pub file: String,
    pub line: u32,
    pub mnemonic: &'static str,
    pub mode: Mode,
    pub timing: Timing,
    /// The operand's value: a branch's or jump's target, an indexed read's base address, an
    /// immediate (None for implied and accumulator modes).
    pub operand: Option<i64>,
}

impl Listed {
    /// Bytes: the opcode and its operand.
    pub fn size(&self) -> u32 {
        1 + self.mode.operand_len()
    }

    /// A branch's cycles when taken: one more than not taken, two more when the target is on
    /// another page than the instruction after the branch.
    pub fn taken_cycles(&self) -> Option<u32> {
        if self.timing.page != PageCost::Branch {
            return None;
        }
        let next = i64::from(self.addr + self.size());
        let crosses = self.operand.is_some_and(|t| (t >> 8) != (next >> 8));
        Some(u32::from(self.timing.base) + 1 + u32::from(crosses))
    }

    /// An absolute indexed read: the smallest index that makes it cross a page (one cycle
    /// more from there on), None when no index up to 255 does or the mode has no such cost.
    /// `(zp),y` reads cross depending on the pointer, which the listing does not know.
    pub fn crossing_index(&self) -> Option<u32> {
        if self.timing.page != PageCost::Indexed || self.mode == Mode::IndY {
            return None;
        }
        let low = u32::try_from(self.operand? & 0xFF).ok()?;
        (low > 0).then_some(0x100 - low)
    }

    /// The cycles column: `4`, `2/3` (a branch not taken / taken), `5+` (a `(zp),y` read:
    /// one more when the pointer crosses a page), `4/5@$F0` (one more from index $F0 on).
    pub fn cycles_text(&self) -> String {
        let base = self.timing.base;
        match self.timing.page {
            PageCost::None => base.to_string(),
            PageCost::Branch => format!("{base}/{}", self.taken_cycles().unwrap_or(0)),
            PageCost::Indexed => match (self.mode, self.crossing_index()) {
                (Mode::IndY, _) => format!("{base}+"),
                (_, Some(i)) => format!("{base}/{}@${i:02X}", base + 1),
                (_, None) => base.to_string(),
            },
        }
    }
}

/// Instructions by address (where banks overlap, the first one linked).
pub type Lines = BTreeMap<u32, Listed>;

/// The listing of a linked program ([`super::Linked::listing`]), with its symbols to start
/// walks from.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    pub lines: &'a Lines,
    pub symbols: &'a BTreeMap<String, u32>,
}

/// What a walk through the code ([`Listing::walk`]) counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walked {
    /// CPU cycles, page crossings of taken branches included.
    pub cycles: u32,
    /// The taken branches that crossed a page (one cycle each of `cycles`), as `file:line`.
    pub crossings: Vec<String>,
}

/// Instructions one walk may run before it is judged to loop.
const MAX_WALK: usize = 10_000;

impl Listing<'_> {
    /// The listing as text, one instruction a line: address, cycles, source position.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in self.lines.values() {
            let operand = l.operand.map_or(String::new(), |v| format!(" ${v:04X}"));
            let _ = writeln!(
                out,
                "${:04X}  {:<10} {}:{}  {} {}{operand}",
                l.addr,
                l.cycles_text(),
                l.file,
                l.line,
                l.mnemonic,
                l.mode.describe(),
            );
        }
        out
    }

    /// The address of symbol `name`.
    pub fn symbol(&self, name: &str) -> Result<u32, String> {
        self.symbols
            .get(name)
            .copied()
            .ok_or_else(|| format!("no symbol '{name}' in the listing"))
    }

    /// The cycles of one way through the code: from label `from`, each conditional branch
    /// taken or not as `branches` says (in the order they are met), following `jmp`, `jsr` and
    /// `rts`. The walk ends (that instruction included) at an `rts` with no `jsr` of the walk
    /// to return to, at `jmp (addr)`, `rti` or `brk`; or (that instruction left out) on
    /// reaching one of the labels `until`. Indexed reads count no page crossing: the player
    /// guards its tables with `.assert` so none crosses. An error says where a walk went
    /// astray (no instruction, branches left over or missing).
    pub fn walk(&self, from: &str, branches: &[bool], until: &[&str]) -> Result<Walked, String> {
        let stops = until
            .iter()
            .map(|u| self.symbol(u))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pc = self.symbol(from)?;
        let mut decisions = branches.iter();
        let mut returns = Vec::new();
        let mut total = 0;
        let mut crossings = Vec::new();
        for step in 0..MAX_WALK {
            if step > 0 && stops.contains(&pc) {
                break;
            }
            let l = self
                .lines
                .get(&pc)
                .ok_or_else(|| format!("walk from {from}: no instruction at ${pc:04X}"))?;
            let target = || {
                l.operand
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or_else(|| format!("{}:{}: target unknown", l.file, l.line))
            };
            total += u32::from(l.timing.base);
            match (l.mnemonic, l.mode) {
                (_, Mode::Rel) => {
                    let taken = *decisions.next().ok_or_else(|| {
                        format!(
                            "walk from {from}: no decision left for the branch at {}:{}",
                            l.file, l.line
                        )
                    })?;
                    if taken {
                        let cycles = l.taken_cycles().unwrap_or(0);
                        if cycles > u32::from(l.timing.base) + 1 {
                            crossings.push(format!("{}:{}", l.file, l.line));
                        }
                        total = total - u32::from(l.timing.base) + cycles;
                        pc = target()?;
                    } else {
                        pc += l.size();
                    }
                }
                ("jmp", Mode::Abs) => pc = target()?,
                ("jsr", _) => {
                    returns.push(pc + l.size());
                    pc = target()?;
                }
                ("rts", _) => match returns.pop() {
                    Some(r) => pc = r,
                    None => break,
                },
                ("jmp", _) | ("rti" | "brk", _) => break,
                _ => pc += l.size(),
            }
            if step + 1 == MAX_WALK {
                return Err(format!(
                    "walk from {from} runs over {MAX_WALK} instructions"
                ));
            }
        }
        if decisions.next().is_some() {
            return Err(format!(
                "walk from {from}: ended with branch decisions left over"
            ));
        }
        Ok(Walked {
            cycles: total,
            crossings,
        })
    }
}
