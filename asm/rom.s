; The ROM: player and songs. The builder provides "songs.inc" (constants: MAPPER_UXROM,
; MUSIC_SONG_COUNT) and "songs.s" (the song table, headers and stream data).

.include "nes.inc"
.include "songs.inc"
.include "zeropage.s"
.include "ui_ram.s"               ; the on-screen player's RAM and the APU shadow

.segment "SONGS"
.include "songs.s"

.segment "CODE"
player_start:
.include "music.s"
.include "reset.s"
.include "nmi.s"
.include "main.s"
.include "ui_data.s"
.include "ui.s"
player_end:

.segment "VECTORS"
    .addr nmi, reset, irq
