; The on-screen player: album title, track number and name, elapsed time, one level meter per
; voice; Up/Down change track (Left/Right are main.s's), Start pauses and resumes.
;
; PPU timing (nesdev wiki "PPU registers", "The frame and NMIs"): the nametable is written only
; by ui_nmi, which runs in the NMI right after music_update, from a buffer ui_update (main
; loop) filled during the frame before. A buffer holds at most one redraw of the track text or
; of the meters, so copying it fits what is left of vblank after the music. ui_init draws the
; static screen while rendering is still off.
;
; Needs: ui_data.s (generated: UI_FPS), nes.inc, ui_ram.s, and from the player and its song data
; music_start_song, music_song, music_streams, MUSIC_SONG_COUNT, pad_new, music_title and
; music_name_lo/hi (zero-terminated ASCII; lower case is shown as upper case).

PPU_SCROLL  = $2005
PPU_ADDR    = $2006
PPU_DATA    = $2007

TILE_METER_OFF  = 1     ; src/rom/chr.rs: meter segment off, half lit, fully lit
TILE_METER_FULL = 3
UI_NAME_LEN     = 28    ; tiles of the title and of a track name (padded with blanks)
UI_METER_LEN    = 8     ; tiles per meter: two levels per tile

UI_ROW_TRACK    = $20E2 ; nametable addresses: row 7 col 2 "TRACK nn OF nn"
UI_TRACK_NUM    = UI_ROW_TRACK + 6
UI_SONG_COUNT   = UI_ROW_TRACK + 12
UI_ROW_NAME     = $2122 ; row 9: the track name
UI_ROW_TITLE    = $2062 ; row 3: the album title
UI_TIME         = $2187 ; row 12 col 7: mm:ss
UI_PAUSED       = $2193 ; row 12 col 19
UI_METER        = $21E6 ; row 15 col 6, one meter every second row

; -----------------------------------------------------------------------------------------------
; ui_init: palette, a cleared nametable, the static text and the first track's text.
; Call with rendering and NMI off, after the first music_start_song. Clobbers A, X, Y.
ui_init:
    bit PPU_STATUS              ; reset the address latch
    lda #$3F
    sta PPU_ADDR
    ldx #0
    stx PPU_ADDR
@palette:
    lda ui_palette,x
    sta PPU_DATA
    inx
    cpx #4
    bne @palette
    lda #$20                    ; nametable 0 and its attributes: tile 0, palette 0
    sta PPU_ADDR
    lda #0
    sta PPU_ADDR
    ldy #4
    tax
@clear:
    sta PPU_DATA
    inx
    bne @clear
    dey
    bne @clear
    ldx #0                      ; static text: address high, low, text pointer; 0 ends
@text:
    lda ui_static,x
    beq @first_track
    sta PPU_ADDR
    lda ui_static+1,x
    sta PPU_ADDR
    lda ui_static+2,x
    sta ui_ptr
    lda ui_static+3,x
    sta ui_ptr+1
    ldy #0
@char:
    lda (ui_ptr),y
    beq @next_text
    sta PPU_DATA
    iny
    bne @char
@next_text:
    inx
    inx
    inx
    inx
    bne @text
@first_track:
    lda #>UI_SONG_COUNT
    sta PPU_ADDR
    lda #<UI_SONG_COUNT
    sta PPU_ADDR
    lda #MUSIC_SONG_COUNT
    jsr ui_decimal
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
@title:
    lda ui_buf,x
    sta PPU_DATA
    inx
    cpx #UI_NAME_LEN
    bne @title
    lda #$FF
    sta ui_song                 ; not drawn yet
    ldx #3
@levels:
    sta ui_levels,x
    dex
    bpl @levels
    lda #1
    sta ui_time_dirty
    jsr ui_fill_buffer          ; the track text, now: rendering is off
    jsr ui_copy_buffer
    jsr ui_fill_buffer          ; the meters and the time, at the first NMI
    rts

; -----------------------------------------------------------------------------------------------
; ui_nmi: copies a ready buffer to the nametable, then sets the scroll and turns rendering on.
; Called in the NMI after music_update. Clobbers A, X, Y.
ui_nmi:
    lda ui_ready
    beq ui_nmi_scroll
    jsr ui_copy_buffer
ui_nmi_scroll:
    lda #$80                    ; NMI on, nametable 0, +1 per PPU_DATA write
    sta PPU_CTRL
    lda #0
    sta PPU_SCROLL
    sta PPU_SCROLL
    lda #$0A                    ; background on, also in the left 8 pixels; sprites off
    sta PPU_MASK
    rts

; ui_copy_buffer: writes ui_buf to the PPU and marks it consumed. 15 cycles per tile.
ui_copy_buffer:
    bit PPU_STATUS
    ldx #0
@entry:
    lda ui_buf,x
    beq @done
    sta PPU_ADDR
    lda ui_buf+1,x
    sta PPU_ADDR
    ldy ui_buf+2,x
    inx
    inx
    inx
@tile:
    lda ui_buf,x
    sta PPU_DATA
    inx
    dey
    bne @tile
    beq @entry
@done:
    sta ui_ready                ; A = 0
    rts

; -----------------------------------------------------------------------------------------------
; ui_update: once per frame from the main loop, after the NMI. Handles Up, Down and Start
; (pad_new of the last read_pad), counts the time and fills the next buffer. Clobbers A, X, Y.
ui_update:
    lda pad_new
    and #PAD_START
    beq @not_start
    jsr ui_toggle_pause
@not_start:
    lda pad_new
    and #PAD_DOWN
    beq @not_down
    ldx music_song
    inx
    cpx #MUSIC_SONG_COUNT
    bcc @start
    ldx #0
    beq @start
@not_down:
    lda pad_new
    and #PAD_UP
    beq @tick
    ldx music_song
    bne @prev
    ldx #MUSIC_SONG_COUNT
@prev:
    dex
@start:
    txa
    jsr music_start_song
@tick:
    lda music_song              ; a new song (from here or main.s) plays from 00:00, unpaused
    cmp ui_song
    beq @same_song
    jsr ui_reset_time
@same_song:
    lda ui_paused
    bne @fill
    inc ui_frames
    lda ui_frames
    cmp #UI_FPS
    bcc @fill
    lda #0
    sta ui_frames
    lda #1
    sta ui_time_dirty
    ldx #3                      ; add one second: digits carry at 10, 6 (tens of seconds), 10
@digit:
    inc ui_time,x
    lda ui_time,x
    cmp ui_digit_limit,x
    bcc @fill
    lda #0
    sta ui_time,x
    dex
    bpl @digit
@fill:
    lda ui_ready
    bne @busy                   ; the NMI has not copied the last buffer yet
    jsr ui_fill_buffer
@busy:
    rts

ui_digit_limit:
    .byte 10, 10, 6, 10

; ui_reset_time: 00:00 and not paused (music_start_song has restarted the streams).
ui_reset_time:
    lda #0
    sta ui_frames
    sta ui_paused
    ldx #3
@zero:
    sta ui_time,x
    dex
    bpl @zero
    lda #1
    sta ui_time_dirty
    sta ui_pause_dirty
    rts

; ui_toggle_pause: pausing stops the streams (music_update plays nothing while music_streams
; is 0) and silences the voices; resuming writes back the registers the player last wrote.
ui_toggle_pause:
    lda #1
    sta ui_pause_dirty
    lda ui_paused
    bne @resume
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
@resume:
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

; -----------------------------------------------------------------------------------------------
; ui_fill_buffer: the updates for the next NMI. A new song's text is one buffer on its own;
; otherwise the time, the PAUSED text and the meters that changed.
ui_fill_buffer:
    ldx #0
    lda music_song
    cmp ui_song
    beq @time
    sta ui_song
    jsr ui_put_track
    jmp @end
@time:
    lda ui_time_dirty
    beq @pause
    jsr ui_put_time
@pause:
    lda ui_pause_dirty
    beq @meters
    jsr ui_put_paused
@meters:
    ldy #0
@meter:
    jsr ui_voice_level
    cmp ui_levels,y
    beq @meter_next
    sta ui_levels,y
    jsr ui_put_meter
@meter_next:
    iny
    cpy #4
    bne @meter
@end:
    lda #0
    sta ui_buf,x
    stx ui_buf_end
    cpx #1                      ; anything to copy?
    bcc @none
    lda #1
    sta ui_ready
@none:
    rts

; ui_put_track: "nn" (A + 1) after TRACK and the 28-tile name of song A. X = buffer index.
ui_put_track:
    lda #>UI_TRACK_NUM
    sta ui_buf,x
    lda #<UI_TRACK_NUM
    sta ui_buf+1,x
    lda #2
    sta ui_buf+2,x
    ldy ui_song
    iny                         ; tracks count from 1 on screen
    tya
    jsr ui_decimal
    sta ui_buf+4,x
    tya
    sta ui_buf+3,x
    lda #>UI_ROW_NAME
    sta ui_buf+5,x
    lda #<UI_ROW_NAME
    sta ui_buf+6,x
    lda #UI_NAME_LEN
    sta ui_buf+7,x
    txa
    clc
    adc #8
    tax
    ldy ui_song
    lda music_name_lo,y
    sta ui_ptr
    lda music_name_hi,y
    sta ui_ptr+1
    ; fall through

; ui_put_text: UI_NAME_LEN tiles into ui_buf at X from the zero-terminated text at ui_ptr:
; lower case as upper case, blanks after the end. Leaves X after the tiles.
ui_put_text:
    ldy #0
@char:
    lda (ui_ptr),y
    beq @blanks
    cmp #$60
    bcc @upper
    sbc #$20                    ; carry set: a-z -> A-Z, {|}~ -> [\]^
@upper:
    sta ui_buf,x
    inx
    iny
    cpy #UI_NAME_LEN
    bne @char
    rts
@blanks:
    lda #' '
@blank:
    sta ui_buf,x
    inx
    iny
    cpy #UI_NAME_LEN
    bne @blank
    rts

; ui_decimal: A as two digit tiles (hundreds are dropped): Y = tens, A = ones.
ui_decimal:
    ldy #'0'-1
@tens:
    iny
    cpy #'9'+1
    bne @subtract
    ldy #'0'
@subtract:
    sec
    sbc #10
    bcs @tens
    adc #10+'0'                 ; carry clear: the ones digit as a tile
    rts

; ui_put_time: "mm:ss". X = buffer index.
ui_put_time:
    lda #>UI_TIME
    sta ui_buf,x
    lda #<UI_TIME
    sta ui_buf+1,x
    lda #5
    sta ui_buf+2,x
    lda ui_time
    ora #'0'
    sta ui_buf+3,x
    lda ui_time+1
    ora #'0'
    sta ui_buf+4,x
    lda #':'
    sta ui_buf+5,x
    lda ui_time+2
    ora #'0'
    sta ui_buf+6,x
    lda ui_time+3
    ora #'0'
    sta ui_buf+7,x
    txa
    clc
    adc #8
    tax
    lda #0
    sta ui_time_dirty
    rts

; ui_put_paused: "PAUSED" while paused, blanks otherwise. X = buffer index.
ui_put_paused:
    lda #>UI_PAUSED
    sta ui_buf,x
    lda #<UI_PAUSED
    sta ui_buf+1,x
    lda #6
    sta ui_buf+2,x
    inx
    inx
    inx
    ldy #0
@char:
    lda ui_paused
    beq @blank
    lda ui_paused_text,y
@blank:                         ; A = 0: the blank tile
    sta ui_buf,x
    inx
    iny
    cpy #6
    bne @char
    lda #0
    sta ui_pause_dirty
    rts

; ui_voice_level: A = the level (0-15) of voice Y (pulse 1, pulse 2, triangle, noise) from the
; registers the player last wrote: 0 when paused or disabled in $4015, the volume of a pulse or
; the noise, 15 for a triangle whose linear counter reload is not 0. Keeps X and Y.
ui_voice_level:
    lda ui_paused
    bne @silent
    lda apu_shadow+$15
    and ui_voice_bit,y
    beq @silent
    stx ui_x
    ldx ui_voice_reg,y
    lda apu_shadow,x
    ldx ui_x
    cpy #2
    bne @volume
    and #$7F
    beq @done
    lda #15
    rts
@volume:
    and #$0F
@done:
    rts
@silent:
    lda #0
    rts

; ui_put_meter: the meter of voice Y showing level A. X = buffer index; keeps Y.
ui_put_meter:
    sta ui_level
    lda ui_meter_hi,y
    sta ui_buf,x
    lda ui_meter_lo,y
    sta ui_buf+1,x
    lda #UI_METER_LEN
    sta ui_buf+2,x
    inx
    inx
    inx
    sty ui_y
    ldy #UI_METER_LEN
@segment:
    lda ui_level
    cmp #2
    bcc @partial
    sbc #2                      ; carry set
    sta ui_level
    lda #TILE_METER_FULL
    sta ui_buf,x
    jmp @next
@partial:
    adc #TILE_METER_OFF         ; carry clear: level 0 -> off, 1 -> half lit
    sta ui_buf,x
    lda #0
    sta ui_level
@next:
    inx
    dey
    bne @segment
    ldy ui_y
    rts

ui_voice_bit:
    .byte $01, $02, $04, $08
ui_voice_reg:
    .byte $00, $04, $08, $0C
ui_meter_hi:
    .byte >(UI_METER), >(UI_METER+64), >(UI_METER+128), >(UI_METER+192)
ui_meter_lo:
    .byte <(UI_METER), <(UI_METER+64), <(UI_METER+128), <(UI_METER+192)

; Black background, white text (colour 1), green meters (colour 2).
ui_palette:
    .byte $0F, $30, $2A, $16

ui_paused_text:
    .byte "PAUSED"

; Static text drawn by ui_init: nametable address (high, low), then the zero-ended text.
ui_static:
    .byte $20, $42
    .addr ui_rule
    .byte $20, $82
    .addr ui_rule
    .byte $20, $E2
    .addr ui_text_track
    .byte $20, $EB
    .addr ui_text_of
    .byte $21, $82
    .addr ui_text_time
    .byte $21, $E2
    .addr ui_text_p1
    .byte $22, $22
    .addr ui_text_p2
    .byte $22, $62
    .addr ui_text_tri
    .byte $22, $A2
    .addr ui_text_noise
    .byte $23, $02
    .addr ui_text_help1
    .byte $23, $42
    .addr ui_text_help2
    .byte 0

ui_rule:
    .byte 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0
ui_text_track:
    .byte "TRACK", 0
ui_text_of:
    .byte "OF", 0
ui_text_time:
    .byte "TIME", 0
ui_text_p1:
    .byte "P1", 0
ui_text_p2:
    .byte "P2", 0
ui_text_tri:
    .byte "TR", 0
ui_text_noise:
    .byte "NO", 0
ui_text_help1:
    .byte "LEFT/RIGHT UP/DOWN: TRACK", 0
ui_text_help2:
    .byte "START: PAUSE", 0
