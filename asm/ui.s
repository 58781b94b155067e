; The on-screen player: album title, track number and name, elapsed time, one level meter per
; voice; Up/Down change track (Left/Right are main.s's), Start pauses and resumes. When a song
; that does not loop has ended (every stream reads its end, $FF), the player shows END and the
; time stops; with UI_ADVANCE it plays the next song a second later (the last one stays on
; END), and Start plays an ended song again.
;
; PPU timing (nesdev wiki "PPU registers", "The frame and NMIs"): the nametable is written only
; by ui_nmi, which runs in the NMI right after music_update, from a buffer ui_update (main
; loop) filled during the frame before. A buffer holds the track text alone, or the time, the
; status text (PAUSED, END) and at most two meters (about 40 tiles), so copying it fits what
; is left of vblank after the music. ui_init draws the static screen while rendering is off.
;
; Files, by concern: this one (set-up, NMI copy, controller, time, pause and song end),
; ui_draw.s (what the next buffer holds), ui_text.s (palette and static text).
;
; Needs: ui_data.s (generated: UI_FPS, UI_ADVANCE), nes.inc, ui_ram.s, and from the player and
; its song data music_start_song, music_song, music_streams, music_ptrs, music_y, music_refs,
; music_bank, MUSIC_MAX_STREAMS, MUSIC_SONG_COUNT, pad_new, music_title and music_name_lo/hi
; (zero-terminated ASCII; lower case is shown as upper case).

PPU_SCROLL  = $2005
PPU_ADDR    = $2006
PPU_DATA    = $2007

TILE_METER_OFF  = 1     ; src/rom/chr.rs: meter segment off, half lit, fully lit
TILE_METER_FULL = 3
UI_NAME_LEN     = 28    ; tiles of the title and of a track name (padded with blanks)
UI_METER_LEN    = 8     ; tiles per meter: two levels per tile
UI_METERS_PER_FRAME = 2 ; meters redrawn per frame at most: keeps the copy short
UI_STATUS_LEN   = 6     ; tiles of the status text: PAUSED, END or blanks
STREAM_END      = $FF   ; the command that ends a stream (asm/music.s)

.if MUSIC_SONG_COUNT >= 100
UI_TRACK_DIGITS = 3     ; "TRACK nnn OF nnn": albums of 100-255 songs
.else
UI_TRACK_DIGITS = 2     ; "TRACK nn OF nn" (ROMs of up to 99 songs are as they always were)
.endif
UI_ROW_TRACK    = $20E2 ; nametable addresses: row 7 col 2 "TRACK nn OF nn"
UI_TRACK_NUM    = UI_ROW_TRACK + 6
UI_TEXT_OF      = UI_TRACK_NUM + UI_TRACK_DIGITS + 1
UI_SONG_COUNT   = UI_TEXT_OF + 3
UI_ROW_NAME     = $2122 ; row 9: the track name
UI_ROW_TITLE    = $2062 ; row 3: the album title
UI_TIME         = $2187 ; row 12 col 7: mm:ss
UI_STATUS       = $2193 ; row 12 col 19: PAUSED, END
UI_METER        = $21E6 ; row 15 col 6, one meter every second row

; -----------------------------------------------------------------------------------------------
;;
; Draws the palette, a cleared nametable, the static text and the first track's text.
; Call with rendering and NMI off, after the first music_start_song. Clobbers A, X, Y.
.proc ui_init
    bit PPU_STATUS              ; reset the address latch
    lda #$3F
    sta PPU_ADDR
    ldx #0
    stx PPU_ADDR
palette:
    lda ui_palette,x
    sta PPU_DATA
    inx
    cpx #4
    bne palette
    lda #$20                    ; nametable 0 and its attributes: tile 0, palette 0
    sta PPU_ADDR
    lda #0
    sta PPU_ADDR
    ldy #4
    tax
clear:
    sta PPU_DATA
    inx
    bne clear
    dey
    bne clear
    ldx #0                      ; static text: address high, low, text pointer; 0 ends
text:
    lda ui_static,x
    beq first_track
    sta PPU_ADDR
    lda ui_static+1,x
    sta PPU_ADDR
    lda ui_static+2,x
    sta ui_ptr
    lda ui_static+3,x
    sta ui_ptr+1
    ldy #0
char:
    lda (ui_ptr),y
    beq next_text
    sta PPU_DATA
    iny
    bne char
next_text:
    inx
    inx
    inx
    inx
    bne text
first_track:
    lda #>UI_SONG_COUNT
    sta PPU_ADDR
    lda #<UI_SONG_COUNT
    sta PPU_ADDR
    lda #MUSIC_SONG_COUNT
.if ::UI_TRACK_DIGITS = 3
    jsr ui_decimal3
    ldx ui_hundreds
    stx PPU_DATA
.else
    jsr ui_decimal
.endif
    sty PPU_DATA
    sta PPU_DATA
    lda #>UI_ROW_TITLE
    sta PPU_ADDR
    lda #<UI_ROW_TITLE
    sta PPU_ADDR
    lda #<music_title
    sta ui_ptr
    lda #>music_title
    sta ui_ptr+1
    ldx #0
    jsr ui_put_text             ; into ui_buf, then straight to the PPU
    ldx #0
title:
    lda ui_buf,x
    sta PPU_DATA
    inx
    cpx #UI_NAME_LEN
    bne title
    lda #$FF
    sta ui_song                 ; not drawn yet
    ldx #3
levels:
    sta ui_levels,x
    dex
    bpl levels
    lda #1
    sta ui_time_dirty
    jsr ui_fill_buffer          ; the track text, now: rendering is off
    jsr ui_copy_buffer
    jsr ui_fill_buffer          ; the meters and the time, at the first NMI
    rts
.endproc

; -----------------------------------------------------------------------------------------------
;;
; Copies a ready buffer to the nametable, then sets the scroll and turns rendering on.
; Called in the NMI after music_update. Clobbers A, X, Y.
.proc ui_nmi
    lda ui_ready
    beq scroll
    jsr ui_copy_buffer
scroll:
    lda #$80                    ; NMI on, nametable 0, +1 per PPU_DATA write
    sta PPU_CTRL
    lda #0
    sta PPU_SCROLL
    sta PPU_SCROLL
    lda #$0A                    ; background on, also in the left 8 pixels; sprites off
    sta PPU_MASK
    rts
.endproc

;;
; Writes ui_buf to the PPU and marks it consumed. 15 cycles per tile. Clobbers A, X, Y.
.proc ui_copy_buffer
    bit PPU_STATUS
    ldx #0
entry:
    lda ui_buf,x
    beq done
    sta PPU_ADDR
    lda ui_buf+1,x
    sta PPU_ADDR
    ldy ui_buf+2,x
    inx
    inx
    inx
tile:
    lda ui_buf,x
    sta PPU_DATA
    inx
    dey
    bne tile
    beq entry
done:
    sta ui_ready                ; A = 0
    rts
.endproc

; -----------------------------------------------------------------------------------------------
;;
; Once per frame from the main loop, right after the NMI and read_pad: handles Up, Down and
; Start (pad_new), counts the time, notices a song's end (and moves on) and fills the next
; buffer. Clobbers A, X, Y.
.proc ui_update
    lda pad_new
    and #PAD_START
    beq not_start
    lda ui_ended
    beq pause                   ; Start on an ended song plays it again
    ldx music_song
    lda #$FF
    sta ui_song                 ; redraw: the time restarts below
    bne start
pause:
    jsr ui_toggle_pause
not_start:
    lda pad_new
    and #PAD_DOWN
    beq not_down
    ldx music_song
    inx
    cpx #MUSIC_SONG_COUNT
    bcc start
    ldx #0
    beq start
not_down:
    lda pad_new
    and #PAD_UP
    beq tick
    ldx music_song
    bne prev
    ldx #MUSIC_SONG_COUNT
prev:
    dex
start:
    txa
    jsr music_start_song
tick:
    lda music_song              ; a new song (from here or main.s) plays from 00:00, unpaused
    cmp ui_song
    beq same_song
    jsr ui_reset_time
same_song:
    lda ui_paused
    bne fill
    lda ui_ended
    bne ended
    jsr ui_song_ended
    bcc count
    lda #1                      ; it has just ended: END, the time stops
    sta ui_ended
    sta ui_status_dirty
    lda #0
    sta ui_frames               ; from here: frames since the end
    beq fill
ended:
    lda #UI_ADVANCE             ; a second of END, then the next song (none after the last)
    beq fill
    ldx music_song
    inx
    cpx #MUSIC_SONG_COUNT
    bcs fill
    inc ui_frames
    lda ui_frames
    cmp #UI_FPS
    bcs start
    bcc fill
count:
    inc ui_frames
    lda ui_frames
    cmp #UI_FPS
    bcc fill
    lda #0
    sta ui_frames
    lda #1
    sta ui_time_dirty
    ldx #3                      ; add one second: digits carry at 10, 6 (tens of seconds), 10
digit:
    inc ui_time,x
    lda ui_time,x
    cmp ui_digit_limit,x
    bcc fill
    lda #0
    sta ui_time,x
    dex
    bpl digit
fill:
    lda ui_ready
    bne busy                    ; the NMI has not copied the last buffer yet
    jsr ui_fill_buffer
busy:
    rts
.endproc

ui_digit_limit:
    .byte 10, 10, 6, 10

;;
; 00:00, playing: not paused, not ended (music_start_song has restarted the streams).
; Clobbers A, X.
.proc ui_reset_time
    lda #0
    sta ui_frames
    sta ui_paused
    sta ui_ended
    ldx #3
zero:
    sta ui_time,x
    dex
    bpl zero
    lda #1
    sta ui_time_dirty
    sta ui_status_dirty
    rts
.endproc

;;
; Carry set when every stream of the playing song has ended: it stands on its end command
; ($FF, which no back-reference holds) outside a back-reference. Streams stop on the tick
; after their last write (src/rom/encode.rs), so this is the frame after the song's last.
; Runs right after the NMI, so the streams do not move under it. UxROM: selects each stream's
; bank through bank_current, which the NMI gives back, so an NMI in between changes nothing.
; Clobbers A, X, Y.
.proc ui_song_ended
    ldx #MUSIC_MAX_STREAMS*2-2  ; x = 2k: slot k, from the last
slot:
    lda music_ptrs+1,x
    beq next                    ; an empty slot (stream data is at $8000 and up)
    lda music_refs,x
    bne playing
    lda music_ptrs,x
    sta ui_ptr
    lda music_ptrs+1,x
    sta ui_ptr+1
.if ::MAPPER_UXROM
    lda music_bank,x
    sta bank_current
    tay
    sta bank_table,y            ; bus-conflict safe: the ROM byte holds the same value
.endif
    ldy music_y,x
    lda (ui_ptr),y
    cmp #STREAM_END
    bne playing
next:
    dex
    dex
    bpl slot
    sec
    rts
playing:
    clc
    rts
.endproc

;;
; Start while playing: pausing stops the streams (music_update plays nothing while
; music_streams is 0) and silences the voices; resuming writes back the registers the player
; last wrote. Clobbers A.
.proc ui_toggle_pause
    lda #1
    sta ui_status_dirty
    lda ui_paused
    bne resume
    lda music_streams
    sta ui_saved_streams
    lda #0
    sta music_streams           ; from here the NMI writes nothing
    lda #1
    sta ui_paused
    lda apu_shadow+$00          ; pulses: constant volume 0, length counter halted
    and #$C0
    ora #$30
    sta $4000
    lda apu_shadow+$04
    and #$C0
    ora #$30
    sta $4004
    lda #$80                    ; triangle: linear counter reloads to 0 at the next quarter frame
    sta $4008
    lda #$30
    sta $400C                   ; noise: constant volume 0
    rts
resume:
    lda apu_shadow+$00
    sta $4000
    lda apu_shadow+$04
    sta $4004
    lda apu_shadow+$08
    sta $4008
    lda apu_shadow+$0B          ; sets the linear counter reload flag; the phase runs on
    sta $400B
    lda apu_shadow+$0C
    sta $400C
    lda #0
    sta ui_paused
    lda ui_saved_streams
    sta music_streams           ; the next NMI plays on from the frame it stopped at
    rts
.endproc

.include "ui_draw.s"
.include "ui_text.s"
