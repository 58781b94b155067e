//! The NSF player's machine: a 6502 (the `mos6502` crate) on the memory map an NSF expects,
//! capturing the APU writes of each INIT and PLAY call.
//!
//! The 2A03 is an NMOS 6502 without decimal mode. mos6502 0.10.1's `Ricoh2a03` variant sets the
//! carry of SBC wrongly (0 - 2 leaves it set), which breaks every 16-bit subtraction, so the
//! `Nmos6502` variant runs here with the decimal flag cleared before each instruction: its
//! binary ADC and SBC are the 2A03's.
//!
//! nesdev wiki "NSF": 2 KiB RAM at $0000 (mirrored to $1FFF), 8 KiB WRAM at $6000, the program
//! at $8000-$FFFF, bank switched in 4 KiB pages by $5FF8-$5FFF when the header gives initial
//! banks. A routine is called as a JSR from outside the program: the return address pushed is
//! [`RETURN`] - 1 and the call ends when the CPU reaches [`RETURN`].

use mos6502::cpu::CPU;
use mos6502::instruction::Nmos6502;
use mos6502::memory::Bus;
use mos6502::registers::{StackPointer, Status};

/// Where a called routine returns to: $5FF0, an address no NSF program runs from.
const RETURN: u16 = 0x5FF0;
/// Size of a bank.
const BANK: usize = 0x1000;

/// One APU register write: register offset from $4000 (0x00..=0x17) and value.
pub type ApuWrite = (u8, u8);

/// Memory as the NSF's program sees it.
struct NsfBus {
    ram: [u8; 0x800],
    wram: Box<[u8; 0x2000]>,
    /// The program as 4 KiB pages: banked, from bank 0 on; unbanked, the 32 KiB at $8000.
    image: Vec<u8>,
    banks: [u8; 8],
    banked: bool,
    writes: Vec<ApuWrite>,
}

impl NsfBus {
    fn rom(&self, addr: u16) -> u8 {
        let page = if self.banked {
            self.banks[(addr as usize - 0x8000) / BANK] as usize % (self.image.len() / BANK)
        } else {
            (addr as usize - 0x8000) / BANK
        };
        self.image[page * BANK + addr as usize % BANK]
    }
}

impl Bus for NsfBus {
    fn get_byte(&mut self, addr: u16) -> u8 {
        match addr {
            0x0000..=0x1FFF => self.ram[addr as usize & 0x7FF],
            0x6000..=0x7FFF => self.wram[addr as usize - 0x6000],
            0x8000..=0xFFFF => self.rom(addr),
            // $4015 reads (length-counter status) and open bus: 0, as NSF players give.
            _ => 0,
        }
    }

    fn set_byte(&mut self, addr: u16, value: u8) {
        match addr {
            0x0000..=0x1FFF => self.ram[addr as usize & 0x7FF] = value,
            0x6000..=0x7FFF => self.wram[addr as usize - 0x6000] = value,
            // OAM DMA ($4014) and the controller strobe ($4016) are not sound.
            0x4000..=0x4013 | 0x4015 | 0x4017 => self.writes.push(((addr - 0x4000) as u8, value)),
            0x5FF8..=0x5FFF if self.banked => self.banks[addr as usize - 0x5FF8] = value,
            _ => {}
        }
    }
}

/// Why a call did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// Still running after the cycle budget.
    TooLong { cycles: u64, pc: u16 },
    /// The CPU stopped on a JAM/KIL opcode or one it cannot decode.
    Halted { pc: u16 },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::TooLong { cycles, pc } => {
                write!(
                    f,
                    "did not return within {cycles} CPU cycles (at ${pc:04X})"
                )
            }
            CallError::Halted { pc } => {
                write!(f, "stopped the CPU at ${pc:04X} (an opcode that halts it)")
            }
        }
    }
}

/// A CPU and its NSF memory.
pub struct Machine {
    cpu: CPU<NsfBus, Nmos6502>,
}

impl Machine {
    /// Loads `data` at `load` (unbanked) or as banks with the initial `banks`.
    pub fn new(data: &[u8], load: u16, banks: [u8; 8]) -> Machine {
        let banked = banks.iter().any(|&b| b != 0);
        let image = if banked {
            let pad = load as usize % BANK;
            let mut image = vec![0u8; pad];
            image.extend_from_slice(data);
            image.resize(image.len().div_ceil(BANK).max(1) * BANK, 0);
            image
        } else {
            let mut image = vec![0u8; 0x8000];
            let at = (load as usize).saturating_sub(0x8000);
            let n = data.len().min(0x8000 - at.min(0x8000));
            image[at..at + n].copy_from_slice(&data[..n]);
            image
        };
        let bus = NsfBus {
            ram: [0; 0x800],
            wram: Box::new([0; 0x2000]),
            image,
            banks,
            banked,
            writes: Vec::new(),
        };
        Machine {
            cpu: CPU::new(bus, Nmos6502),
        }
    }

    /// The APU reset the NSF specification asks of a player before INIT: $4000-$4013 cleared,
    /// $4015 off then on, $4017 = $40 (frame IRQ off). Recorded as writes.
    pub fn reset_apu(&mut self) {
        for reg in 0x00..=0x13u16 {
            self.cpu.memory.set_byte(0x4000 + reg, 0);
        }
        for (addr, value) in [(0x4015, 0x00), (0x4015, 0x0F), (0x4017, 0x40)] {
            self.cpu.memory.set_byte(addr, value);
        }
    }

    /// Calls the routine at `addr` with A and X set, for at most `max_cycles`.
    pub fn call(&mut self, addr: u16, a: u8, x: u8, max_cycles: u64) -> Result<(), CallError> {
        let regs = &mut self.cpu.registers;
        regs.accumulator = a;
        regs.index_x = x;
        regs.index_y = 0;
        regs.status = Status::PS_DISABLE_INTERRUPTS | Status::PS_UNUSED;
        let ret = RETURN - 1;
        self.cpu.memory.ram[0x1FF] = (ret >> 8) as u8;
        self.cpu.memory.ram[0x1FE] = ret as u8;
        regs.stack_pointer = StackPointer(0xFD);
        regs.program_counter = addr;
        let start = self.cpu.cycles;
        while self.cpu.registers.program_counter != RETURN {
            let pc = self.cpu.registers.program_counter;
            if self.cpu.cycles - start > max_cycles {
                return Err(CallError::TooLong {
                    cycles: max_cycles,
                    pc,
                });
            }
            self.cpu.registers.status.remove(Status::PS_DECIMAL_MODE);
            if !self.cpu.single_step() {
                return Err(CallError::Halted { pc });
            }
        }
        Ok(())
    }

    /// The writes since the last call of this, in order.
    pub fn take_writes(&mut self) -> Vec<ApuWrite> {
        std::mem::take(&mut self.cpu.memory.writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_return_and_capture_writes_and_banks() {
        // Bank 0 at $8000: LDA #$3F / STA $4000 / STX $4002 / LDA #1 / STA $5FF9 / LDA $9000 /
        // STA $4003 / RTS. Bank 1 holds $77 at its start, switched into $9000 by the write.
        let mut data = vec![0u8; 2 * BANK];
        let code = [
            0xA9, 0x3F, 0x8D, 0x00, 0x40, 0x8E, 0x02, 0x40, 0xA9, 0x01, 0x8D, 0xF9, 0x5F, 0xAD,
            0x00, 0x90, 0x8D, 0x03, 0x40, 0x60,
        ];
        data[..code.len()].copy_from_slice(&code);
        data[BANK] = 0x77;
        let mut m = Machine::new(&data, 0x8000, [0, 0, 2, 3, 4, 5, 6, 7]);
        m.reset_apu();
        assert_eq!(m.take_writes().len(), 23);
        m.call(0x8000, 0, 9, 1000).unwrap();
        assert_eq!(m.take_writes(), [(0x00, 0x3F), (0x02, 9), (0x03, 0x77)]);
        // An endless loop (JMP $8000) runs out of cycles; a JAM opcode halts.
        let mut m = Machine::new(&[0x4C, 0x00, 0x80], 0x8000, [0; 8]);
        assert!(matches!(
            m.call(0x8000, 0, 0, 500),
            Err(CallError::TooLong { .. })
        ));
        // SED / LDA #0 / SEC / SBC #2 / STA $4000 / LDA #0 / SBC #0 / STA $4001 / RTS: binary
        // arithmetic, and the borrow of the low byte reaches the high byte (0 - 2 = $FFFE).
        let code = [
            0xF8, 0xA9, 0x00, 0x38, 0xE9, 0x02, 0x8D, 0x00, 0x40, 0xA9, 0x00, 0xE9, 0x00, 0x8D,
            0x01, 0x40, 0x60,
        ];
        let mut m = Machine::new(&code, 0x8000, [0; 8]);
        m.call(0x8000, 0, 0, 1000).unwrap();
        assert_eq!(m.take_writes(), [(0x00, 0xFE), (0x01, 0xFF)]);
        let mut m = Machine::new(&[0x02], 0x8000, [0; 8]);
        assert!(matches!(
            m.call(0x8000, 0, 0, 500),
            Err(CallError::Halted { .. })
        ));
    }
}
