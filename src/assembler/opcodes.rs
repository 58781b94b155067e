//! The 151 official NMOS 6502 opcodes: mnemonic x addressing mode -> opcode byte.
//! Reference: nesdev wiki "CPU unofficial opcodes" table (official subset) and "6502 instructions".

/// 6502 addressing modes. The order matters: when a zero-page and an absolute form are both
/// possible, the assembler picks the first (smaller) one, as ca65 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Imp,
    Acc,
    Imm,
    Zp,
    ZpX,
    ZpY,
    Abs,
    AbsX,
    AbsY,
    Ind,
    IndX,
    IndY,
    Rel,
}

impl Mode {
    /// Operand bytes after the opcode.
    pub fn operand_len(self) -> u32 {
        match self {
            Mode::Imp | Mode::Acc => 0,
            Mode::Abs | Mode::AbsX | Mode::AbsY | Mode::Ind => 2,
            _ => 1,
        }
    }

    /// True for the modes whose operand is a zero-page address.
    pub fn is_zp(self) -> bool {
        matches!(
            self,
            Mode::Zp | Mode::ZpX | Mode::ZpY | Mode::IndX | Mode::IndY
        )
    }

    /// A short description for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Mode::Imp => "implied",
            Mode::Acc => "accumulator",
            Mode::Imm => "immediate",
            Mode::Zp => "zero page",
            Mode::ZpX => "zero page,x",
            Mode::ZpY => "zero page,y",
            Mode::Abs => "absolute",
            Mode::AbsX => "absolute,x",
            Mode::AbsY => "absolute,y",
            Mode::Ind => "(indirect)",
            Mode::IndX => "(zero page,x)",
            Mode::IndY => "(zero page),y",
            Mode::Rel => "relative",
        }
    }
}

/// Opcode table row: mnemonic and (mode, opcode) pairs.
type Row = (&'static str, &'static [(Mode, u8)]);

use Mode::*;

const ORA_LIKE: [Mode; 8] = [Imm, Zp, ZpX, Abs, AbsX, AbsY, IndX, IndY];

const fn group1(base: u8) -> [(Mode, u8); 8] {
    // ORA/AND/EOR/ADC/STA/LDA/CMP/SBC share the "cc=01" encoding: base | mode bits.
    let bits = [0x09, 0x05, 0x15, 0x0d, 0x1d, 0x19, 0x01, 0x11];
    let mut out = [(Imm, 0u8); 8];
    let mut i = 0;
    while i < 8 {
        out[i] = (ORA_LIKE[i], base | bits[i]);
        i += 1;
    }
    out
}

const ORA: [(Mode, u8); 8] = group1(0x00);
const AND: [(Mode, u8); 8] = group1(0x20);
const EOR: [(Mode, u8); 8] = group1(0x40);
const ADC: [(Mode, u8); 8] = group1(0x60);
const LDA: [(Mode, u8); 8] = group1(0xa0);
const CMP: [(Mode, u8); 8] = group1(0xc0);
const SBC: [(Mode, u8); 8] = group1(0xe0);

static TABLE: &[Row] = &[
    ("adc", &ADC),
    ("and", &AND),
    (
        "asl",
        &[
            (Acc, 0x0a),
            (Zp, 0x06),
            (ZpX, 0x16),
            (Abs, 0x0e),
            (AbsX, 0x1e),
        ],
    ),
    ("bcc", &[(Rel, 0x90)]),
    ("bcs", &[(Rel, 0xb0)]),
    ("beq", &[(Rel, 0xf0)]),
    ("bit", &[(Zp, 0x24), (Abs, 0x2c)]),
    ("bmi", &[(Rel, 0x30)]),
    ("bne", &[(Rel, 0xd0)]),
    ("bpl", &[(Rel, 0x10)]),
    ("brk", &[(Imp, 0x00)]),
    ("bvc", &[(Rel, 0x50)]),
    ("bvs", &[(Rel, 0x70)]),
    ("clc", &[(Imp, 0x18)]),
    ("cld", &[(Imp, 0xd8)]),
    ("cli", &[(Imp, 0x58)]),
    ("clv", &[(Imp, 0xb8)]),
    ("cmp", &CMP),
    ("cpx", &[(Imm, 0xe0), (Zp, 0xe4), (Abs, 0xec)]),
    ("cpy", &[(Imm, 0xc0), (Zp, 0xc4), (Abs, 0xcc)]),
    ("dec", &[(Zp, 0xc6), (ZpX, 0xd6), (Abs, 0xce), (AbsX, 0xde)]),
    ("dex", &[(Imp, 0xca)]),
    ("dey", &[(Imp, 0x88)]),
    ("eor", &EOR),
    ("inc", &[(Zp, 0xe6), (ZpX, 0xf6), (Abs, 0xee), (AbsX, 0xfe)]),
    ("inx", &[(Imp, 0xe8)]),
    ("iny", &[(Imp, 0xc8)]),
    ("jmp", &[(Abs, 0x4c), (Ind, 0x6c)]),
    ("jsr", &[(Abs, 0x20)]),
    ("lda", &LDA),
    (
        "ldx",
        &[
            (Imm, 0xa2),
            (Zp, 0xa6),
            (ZpY, 0xb6),
            (Abs, 0xae),
            (AbsY, 0xbe),
        ],
    ),
    (
        "ldy",
        &[
            (Imm, 0xa0),
            (Zp, 0xa4),
            (ZpX, 0xb4),
            (Abs, 0xac),
            (AbsX, 0xbc),
        ],
    ),
    (
        "lsr",
        &[
            (Acc, 0x4a),
            (Zp, 0x46),
            (ZpX, 0x56),
            (Abs, 0x4e),
            (AbsX, 0x5e),
        ],
    ),
    ("nop", &[(Imp, 0xea)]),
    ("ora", &ORA),
    ("pha", &[(Imp, 0x48)]),
    ("php", &[(Imp, 0x08)]),
    ("pla", &[(Imp, 0x68)]),
    ("plp", &[(Imp, 0x28)]),
    (
        "rol",
        &[
            (Acc, 0x2a),
            (Zp, 0x26),
            (ZpX, 0x36),
            (Abs, 0x2e),
            (AbsX, 0x3e),
        ],
    ),
    (
        "ror",
        &[
            (Acc, 0x6a),
            (Zp, 0x66),
            (ZpX, 0x76),
            (Abs, 0x6e),
            (AbsX, 0x7e),
        ],
    ),
    ("rti", &[(Imp, 0x40)]),
    ("rts", &[(Imp, 0x60)]),
    ("sbc", &SBC),
    ("sec", &[(Imp, 0x38)]),
    ("sed", &[(Imp, 0xf8)]),
    ("sei", &[(Imp, 0x78)]),
    (
        "sta",
        &[
            (Zp, 0x85),
            (ZpX, 0x95),
            (Abs, 0x8d),
            (AbsX, 0x9d),
            (AbsY, 0x99),
            (IndX, 0x81),
            (IndY, 0x91),
        ],
    ),
    ("stx", &[(Zp, 0x86), (ZpY, 0x96), (Abs, 0x8e)]),
    ("sty", &[(Zp, 0x84), (ZpX, 0x94), (Abs, 0x8c)]),
    ("tax", &[(Imp, 0xaa)]),
    ("tay", &[(Imp, 0xa8)]),
    ("tsx", &[(Imp, 0xba)]),
    ("txa", &[(Imp, 0x8a)]),
    ("txs", &[(Imp, 0x9a)]),
    ("tya", &[(Imp, 0x98)]),
];

/// An instruction's supported modes.
#[derive(Debug, Clone, Copy)]
pub struct Instruction {
    pub mnemonic: &'static str,
    modes: &'static [(Mode, u8)],
}

impl Instruction {
    /// The opcode for `mode`, if the instruction supports it.
    pub fn opcode(&self, mode: Mode) -> Option<u8> {
        self.modes.iter().find(|m| m.0 == mode).map(|m| m.1)
    }
    /// All (mode, opcode) pairs.
    pub fn modes(&self) -> &'static [(Mode, u8)] {
        self.modes
    }
}

/// What a page crossing adds to an instruction's cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCost {
    /// Nothing: the cycles are always [`Timing::base`].
    None,
    /// One more when the indexed address is on another page than the base (reads through
    /// `abs,x`, `abs,y` and `(zp),y`; stores and read-modify-writes always take the long path).
    Indexed,
    /// A branch: one more when taken, two when the target is on another page than the
    /// instruction after the branch.
    Branch,
}

/// An instruction's CPU cycles. See the nesdev wiki, <https://www.nesdev.org/wiki/6502_cycle_times>.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Cycles with no page crossing (and, for a branch, not taken).
    pub base: u8,
    pub page: PageCost,
}

impl Instruction {
    /// The instruction's cycles in `mode` (None when it has no such mode).
    pub fn timing(&self, mode: Mode) -> Option<Timing> {
        self.opcode(mode)?;
        let store = matches!(self.mnemonic, "sta" | "stx" | "sty");
        let rmw = matches!(self.mnemonic, "asl" | "lsr" | "rol" | "ror" | "inc" | "dec");
        let (base, page) = match (mode, self.mnemonic) {
            (Imp, "brk") => (7, PageCost::None),
            (Imp, "rti" | "rts") => (6, PageCost::None),
            (Imp, "pha" | "php") => (3, PageCost::None),
            (Imp, "pla" | "plp") => (4, PageCost::None),
            (Imp | Acc | Imm, _) => (2, PageCost::None),
            (Rel, _) => (2, PageCost::Branch),
            (Abs, "jmp") => (3, PageCost::None),
            (Abs, "jsr") => (6, PageCost::None),
            (Ind, _) => (5, PageCost::None),
            (Zp, _) if rmw => (5, PageCost::None),
            (Zp, _) => (3, PageCost::None),
            (ZpX | ZpY | Abs, _) if rmw => (6, PageCost::None),
            (ZpX | ZpY | Abs, _) => (4, PageCost::None),
            (AbsX | AbsY, _) if rmw => (7, PageCost::None),
            (AbsX | AbsY, _) if store => (5, PageCost::None),
            (AbsX | AbsY, _) => (4, PageCost::Indexed),
            (IndX, _) => (6, PageCost::None),
            (IndY, _) if store => (6, PageCost::None),
            (IndY, _) => (5, PageCost::Indexed),
        };
        Some(Timing { base, page })
    }
}

/// Looks up a mnemonic, case-insensitively.
pub fn find(name: &str) -> Option<Instruction> {
    let b = name.as_bytes();
    if b.len() != 3 {
        return None;
    }
    let key = [
        b[0].to_ascii_lowercase(),
        b[1].to_ascii_lowercase(),
        b[2].to_ascii_lowercase(),
    ];
    TABLE
        .binary_search_by(|row| row.0.as_bytes().cmp(&key[..]))
        .ok()
        .map(|i| Instruction {
            mnemonic: TABLE[i].0,
            modes: TABLE[i].1,
        })
}

/// Every mnemonic, sorted.
pub fn mnemonics() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|r| r.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_151_distinct_opcodes() {
        let mut seen = std::collections::HashSet::new();
        for row in TABLE {
            for &(_, op) in row.1 {
                assert!(seen.insert(op), "duplicate opcode {op:02x}");
            }
        }
        assert_eq!(seen.len(), 151);
        assert_eq!(TABLE.len(), 56);
        assert!(
            TABLE.windows(2).all(|w| w[0].0 < w[1].0),
            "table must stay sorted"
        );
    }

    #[test]
    fn known_encodings() {
        assert_eq!(find("LDA").unwrap().opcode(Mode::IndY), Some(0xb1));
        assert_eq!(find("sta").unwrap().opcode(Mode::Imm), None);
        assert_eq!(find("jmp").unwrap().opcode(Mode::Ind), Some(0x6c));
        assert_eq!(find("sbc").unwrap().opcode(Mode::AbsY), Some(0xf9));
        assert!(find("xyz").is_none());
    }
}
