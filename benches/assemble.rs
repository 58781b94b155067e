//! Assembler speed: a ~2,000-line player-like program plus 28 KiB of `.byte` song data,
//! assembled and linked in memory (the ROM builder does this once per song).
//! Run: `cargo bench --bench assemble`.

use criterion::{criterion_group, criterion_main, Criterion};
use nesmm::assembler::{assemble_and_link, SourceSet};
use std::fmt::Write;
use std::hint::black_box;

const CFG: &str = "
MEMORY { ZP: start = $00, size = $100, type = rw, file = \"\";
         PRG: start = $8000, size = $7FFA, type = ro, file = %O, fill = yes, fillval = $FF;
         VEC: start = $FFFA, size = 6, type = ro, file = %O, fill = yes, fillval = $FF; }
SEGMENTS { ZEROPAGE: load = ZP, type = zp; SONGS: load = PRG, type = ro;
           CODE: load = PRG, type = ro; VECTORS: load = VEC, type = ro; }
";

/// A program of about `code_lines` instruction lines and `data_bytes` bytes of `.byte` data.
fn program(code_lines: usize, data_bytes: usize) -> SourceSet {
    let mut code = String::from(
        ".segment \"ZEROPAGE\"\nptr: .res 2\nstate: .res 16\n.segment \"CODE\"\nreset:\n",
    );
    let mut n = 0;
    while n < code_lines {
        let p = n / 20;
        let _ = write!(
            code,
            ".proc routine{p}\n    ldy #0\n@loop:\n    lda (ptr),y\n    sta state,x\n    lda song_data+{o},y\n    \
             clc\n    adc #<(song_data+{o})\n    sta $4000\n    lda state+1\n    and #$0F\n    ora #%10110000\n    \
             sta $4004,x\n    iny\n    cpy #16\n    bne @loop\n    jsr routine{next}\n    rts\n.endproc\n",
            o = (p * 7) % 1000,
            next = p + 1
        );
        n += 20;
    }
    let _ = writeln!(code, "routine{}:\n    rts\nnmi:\nirq:\n    rti", n / 20);
    code.push_str(".segment \"VECTORS\"\n    .addr nmi, reset, irq\n");
    let mut data = String::from(".segment \"SONGS\"\nsong_data:\n");
    for row in 0..data_bytes / 16 {
        data.push_str("    .byte ");
        for i in 0..16 {
            let _ = write!(
                data,
                "{}${:02X}",
                if i > 0 { "," } else { "" },
                (row * 16 + i) as u8
            );
        }
        data.push('\n');
    }
    let main = ".include \"songs.s\"\n.include \"player.s\"\n";
    SourceSet::new()
        .with("main.s", main)
        .with("player.s", code)
        .with("songs.s", data)
}

fn bench(c: &mut Criterion) {
    let set = program(2000, 28 * 1024);
    let linked = assemble_and_link(&set, "main.s", CFG).expect("benchmark program assembles");
    assert_eq!(linked.image.len(), 0x8000);
    c.bench_function("assemble_and_link 2000 lines + 28 KiB data", |b| {
        b.iter(|| assemble_and_link(black_box(&set), "main.s", CFG).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
