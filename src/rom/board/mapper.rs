//! The boards the ROM builder makes: the mapper, and the CPU vectors at the end of the PRG.

/// The cartridge board: which mapper switches the PRG banks. See the nesdev wiki pages
/// <https://www.nesdev.org/wiki/NROM> and <https://www.nesdev.org/wiki/UxROM>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapper {
    /// Mapper 0, 32 KiB PRG.
    Nrom,
    /// Mapper 2: 16 KiB switchable banks at $8000 and the last bank fixed at $C000.
    Uxrom,
}

impl Mapper {
    /// iNES mapper number.
    pub fn number(self) -> u16 {
        match self {
            Mapper::Nrom => 0,
            Mapper::Uxrom => 2,
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Mapper::Nrom => "NROM (mapper 0)",
            Mapper::Uxrom => "UxROM (mapper 2)",
        }
    }
}

/// Bytes of the CPU vectors (NMI, RESET, IRQ/BRK) at $FFFA-$FFFF, the end of the PRG. See the
/// nesdev wiki page <https://www.nesdev.org/wiki/CPU_memory_map>.
pub const VECTORS: usize = 6;
