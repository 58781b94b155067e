; NSF entry points (nesdev wiki "NSF"): the ROM's player and song data, without the screen.
; The NSF player calls INIT once per song and PLAY every frame; both end in RTS.
; The builder provides "songs.inc" and "songs.s", as for the ROM.

.include "nes.inc"
.include "songs.inc"
.include "nsf_banks.inc"        ; NSF_BANKED = 1 when the song data is banked
.include "zeropage.s"
.include "ui_ram.s"             ; apu_shadow: the player keeps its copy here too

.segment "SONGS"
.include "songs.s"

.segment "CODE"
player_start:
.include "music.s"

; nsf_init: A = song index, X = 0 NTSC / 1 PAL. The songs are compiled for the region the
; header names, so X is not needed. The NSF player has cleared RAM and set up the APU.
nsf_init:
    pha
    jsr music_init
    pla
    jmp music_start_song        ; its RTS returns to the NSF player

; nsf_play: one frame of the song.
nsf_play:
    jmp music_update

.ifdef NSF_BANKED
; nsf_select_bank: shows 16 KiB bank A of the song data at $8000-$BFFF: NSF pages 4A to 4A+3
; in $5FF8-$5FFB. Keeps X and Y.
nsf_select_bank:
    asl
    asl
    sta $5FF8                   ; 4A
    ora #1
    sta $5FF9                   ; 4A+1
    eor #3
    sta $5FFA                   ; 4A+2
    ora #1
    sta $5FFB                   ; 4A+3
    rts
.endif
player_end:
