//! Small deterministic songs for the ROM, NSF and export tests: all four voices, notes and
//! volumes changing on different periods, so every frame differs from its neighbours.

use nesmm::{ApuStream, RegWrite, Region};

fn w(addr: u16, value: u8) -> RegWrite {
    RegWrite::new(addr, value)
}

/// A song of `frames` frames; `variant` shifts its notes so songs differ.
pub fn song(name: &str, variant: u16, frames: usize, region: Region) -> ApuStream {
    let mut s = ApuStream::new(name, region);
    s.init = vec![
        w(0x4015, 0x0F),
        w(0x4001, 0x08),
        w(0x4005, 0x08),
        w(0x4008, 0xFF),
        w(0x400C, 0x30),
    ];
    let scale = [0x1AB, 0x17C, 0x153, 0x140, 0x11D, 0x0FE, 0x0E2, 0x0D5];
    for f in 0..frames {
        s.begin_frame();
        let f16 = f as u16;
        if f % 8 == 0 {
            let t: u16 = scale[usize::from((f16 / 8 + variant) % 8)];
            s.push_write(w(0x4002, t as u8));
            s.push_write(w(0x4003, (t >> 8) as u8 | 0x08));
        }
        // Pulse 1 volume decays within each note.
        s.push_write(w(0x4000, 0xB0 | (15 - (f % 8) as u8 * 2).min(15)));
        if f % 12 == 0 {
            let t: u16 = scale[usize::from((f16 / 12 + variant + 3) % 8)] * 2;
            s.push_write(w(0x4004, 0x70 | (8 + (f / 12 % 8) as u8)));
            s.push_write(w(0x4006, t as u8));
            s.push_write(w(0x4007, (t >> 8) as u8 | 0x08));
        }
        if f % 16 == 0 {
            let t: u16 = scale[usize::from((f16 / 16 + variant) % 8)];
            s.push_write(w(0x400A, t as u8));
            s.push_write(w(0x400B, (t >> 8) as u8 | 0x08));
        }
        if f % 4 == 0 {
            s.push_write(w(0x400E, (3 + (f / 4 % 4) as u8 + variant as u8) & 0x0F));
            s.push_write(w(0x400F, 0x08));
        }
        s.push_write(w(0x400C, 0x30 | (12u8.saturating_sub((f % 4) as u8 * 4))));
        if f % 64 == 48 {
            s.push_write(w(0x4015, 0x0B)); // triangle rests a while
        } else if f % 64 == 56 {
            s.push_write(w(0x4015, 0x0F));
        }
    }
    s
}
