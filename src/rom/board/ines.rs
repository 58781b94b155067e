//! The 16-byte NES 2.0 header. See the nesdev wiki page <https://www.nesdev.org/wiki/NES_2.0>.

use crate::region::Region;

/// Builds a NES 2.0 header for a board with `prg_banks` 16 KiB PRG-ROM banks, 8 KiB of CHR-RAM,
/// no PRG-RAM, vertical mirroring (horizontal nametable arrangement) and standard controllers.
pub fn nes2_header(mapper: u16, prg_banks: u16, region: Region) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(b"NES\x1A");
    // 4: PRG-ROM size LSB in 16 KiB units (MSB nibble in byte 9).
    h[4] = (prg_banks & 0xFF) as u8;
    // 5: CHR-ROM size LSB: 0, the board has CHR-RAM (sized in byte 11).
    h[5] = 0;
    // 6: mapper D0..D3 in the high nibble; bit 0 = 1: horizontal arrangement (vertical
    // mirroring); no battery, trainer or four-screen.
    h[6] = (((mapper & 0x0F) as u8) << 4) | 0x01;
    // 7: mapper D4..D7 in the high nibble; bits 2-3 = 10: NES 2.0; console type 0 (NES).
    h[7] = ((mapper & 0xF0) as u8) | 0x08;
    // 8: mapper D8..D11 in the low nibble, submapper 0 in the high nibble.
    h[8] = ((mapper >> 8) & 0x0F) as u8;
    // 9: PRG-ROM size MSB in the low nibble, CHR-ROM size MSB in the high nibble.
    h[9] = ((prg_banks >> 8) & 0x0F) as u8;
    // 10: PRG-RAM / PRG-NVRAM shift counts: none.
    h[10] = 0;
    // 11: CHR-RAM shift count 7: 64 << 7 = 8 KiB, no CHR-NVRAM.
    h[11] = 0x07;
    // 12: CPU/PPU timing: 0 = RP2C02 (NTSC), 1 = RP2C07 (PAL).
    h[12] = match region {
        Region::Ntsc => 0,
        Region::Pal => 1,
    };
    // 13: Vs. System / extended console type: none. 14: miscellaneous ROMs: none.
    // 15: default expansion device 1: standard NES/Famicom controllers.
    h[15] = 0x01;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes() {
        let h = nes2_header(2, 8, Region::Pal);
        assert_eq!(&h[0..4], b"NES\x1A");
        assert_eq!(h[4], 8);
        assert_eq!(h[6] >> 4, 2);
        assert_eq!(h[7] & 0x0C, 0x08, "NES 2.0 identifier");
        assert_eq!(h[11], 7);
        assert_eq!(h[12], 1);
        assert_eq!(h[15], 1);
        let n = nes2_header(0, 2, Region::Ntsc);
        assert_eq!((n[6] >> 4) | (n[7] & 0xF0), 0);
        assert_eq!(n[12], 0);
        assert_eq!(&n[8..11], &[0, 0, 0]);
    }
}
