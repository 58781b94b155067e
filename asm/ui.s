; The on-screen player: album title, track number and name, elapsed time, one level meter per
; voice; Up/Down change track (Left/Right are main.s's), Start pauses and resumes.
;
; PPU timing (nesdev wiki "PPU registers", "The frame and NMIs"): the nametable is written only
; by ui_nmi, which runs in the NMI right after music_update, from a buffer ui_update (main
; loop) filled during the frame before. A buffer holds the track text alone, or the time, the
; PAUSED text and at most two meters (about 40 tiles), so copying it fits what is left of
; vblank after the music. ui_init draws the static screen while rendering is still off.
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
UI_METERS_PER_FRAME = 2 ; meters redrawn per frame at most: keeps the copy short

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
ui_init_palette:
    lda ui_palette,x
    sta PPU_DATA
    inx
    cpx #4
    bne ui_init_palette
    lda #$20                    ; nametable 0 and its attributes: tile 0, palette 0
    sta PPU_ADDR
    lda #0
    sta PPU_ADDR
    ldy #4
    tax
ui_init_clear:
    sta PPU_DATA
    inx
    bne ui_init_clear
    dey
    bne ui_init_clear
    ldx #0                      ; static text: address high, low, text pointer; 0 ends
ui_init_text:
    lda ui_static,x
    beq ui_init_first_track
    sta PPU_ADDR
    lda ui_static+1,x
    sta PPU_ADDR
    lda ui_static+2,x
    sta ui_ptr
    lda ui_static+3,x
    sta ui_ptr+1
    ldy #0
ui_init_char:
    lda (ui_ptr),y
    beq ui_init_next_text
    sta PPU_DATA
    iny
    bne ui_init_char
ui_init_next_text:
    inx
    inx
    inx
    inx
    bne ui_init_text
ui_init_first_track:
    lda #>UI_SONG_COUNT
    sta PPU_ADDR
    lda #<UI_SONG_COUNT
    sta PPU_ADDR
    lda #MUSIC_SONG_COUNT
.if UI_TRACK_DIGITS = 3
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
ui_init_title:
    lda ui_buf,x
    sta PPU_DATA
    inx
    cpx #UI_NAME_LEN
    bne ui_init_title
    lda #$FF
    sta ui_song                 ; not drawn yet
    ldx #3
ui_init_levels:
    sta ui_levels,x
    dex
    bpl ui_init_levels
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
ui_copy_buffer_entry:
    lda ui_buf,x
    beq ui_copy_buffer_done
    sta PPU_ADDR
    lda ui_buf+1,x
    sta PPU_ADDR
    ldy ui_buf+2,x
    inx
    inx
    inx
ui_copy_buffer_tile:
    lda ui_buf,x
    sta PPU_DATA
    inx
    dey
    bne ui_copy_buffer_tile
    beq ui_copy_buffer_entry
ui_copy_buffer_done:
    sta ui_ready                ; A = 0
    rts

; -----------------------------------------------------------------------------------------------
; ui_update: once per frame from the main loop, after the NMI and read_pad. Handles Up, Down
; and Start (pad_new), counts the time and fills the next buffer. Clobbers A, X, Y.
ui_update:
    lda pad_new
    and #PAD_START
    beq ui_update_not_start
    jsr ui_toggle_pause
ui_update_not_start:
    lda pad_new
    and #PAD_DOWN
    beq ui_update_not_down
    ldx music_song
    inx
    cpx #MUSIC_SONG_COUNT
    bcc ui_update_start
    ldx #0
    beq ui_update_start
ui_update_not_down:
    lda pad_new
    and #PAD_UP
    beq ui_update_tick
    ldx music_song
    bne ui_update_prev
    ldx #MUSIC_SONG_COUNT
ui_update_prev:
    dex
ui_update_start:
    txa
    jsr music_start_song
ui_update_tick:
    lda music_song              ; a new song (from here or main.s) plays from 00:00, unpaused
    cmp ui_song
    beq ui_update_same_song
    jsr ui_reset_time
ui_update_same_song:
    lda ui_paused
    bne ui_update_fill
    inc ui_frames
    lda ui_frames
    cmp #UI_FPS
    bcc ui_update_fill
    lda #0
    sta ui_frames
    lda #1
    sta ui_time_dirty
    ldx #3                      ; add one second: digits carry at 10, 6 (tens of seconds), 10
ui_update_digit:
    inc ui_time,x
    lda ui_time,x
    cmp ui_digit_limit,x
    bcc ui_update_fill
    lda #0
    sta ui_time,x
    dex
    bpl ui_update_digit
ui_update_fill:
    lda ui_ready
    bne ui_update_busy                   ; the NMI has not copied the last buffer yet
    jsr ui_fill_buffer
ui_update_busy:
    rts

ui_digit_limit:
    .byte 10, 10, 6, 10

; ui_reset_time: 00:00 and not paused (music_start_song has restarted the streams).
ui_reset_time:
    lda #0
    sta ui_frames
    sta ui_paused
    ldx #3
ui_reset_time_zero:
    sta ui_time,x
    dex
    bpl ui_reset_time_zero
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
    bne ui_toggle_pause_resume
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
ui_toggle_pause_resume:
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
    beq ui_fill_buffer_time
    sta ui_song
    jsr ui_put_track
    jmp ui_fill_buffer_end
ui_fill_buffer_time:
    lda ui_time_dirty
    beq ui_fill_buffer_pause
    jsr ui_put_time
ui_fill_buffer_pause:
    lda ui_pause_dirty
    beq ui_fill_buffer_meters
    jsr ui_put_paused
ui_fill_buffer_meters:                        ; at most UI_METERS_PER_FRAME, each voice in turn first
    lda #UI_METERS_PER_FRAME
    sta ui_meters_left
    lda #4
    sta ui_meter_count
    lda ui_meter_start
    and #3
    tay
    iny
    sty ui_meter_start
    dey
ui_fill_buffer_meter:
    jsr ui_voice_level
    cmp ui_levels,y
    beq ui_fill_buffer_meter_next
    pha
    lda ui_meters_left
    beq ui_fill_buffer_meter_later            ; no room: this meter waits for the next buffer
    dec ui_meters_left
    pla
    sta ui_levels,y
    jsr ui_put_meter
    jmp ui_fill_buffer_meter_next
ui_fill_buffer_meter_later:
    pla
ui_fill_buffer_meter_next:
    iny
    tya
    and #3
    tay
    dec ui_meter_count
    bne ui_fill_buffer_meter
ui_fill_buffer_end:
    lda #0
    sta ui_buf,x
    stx ui_buf_end
    cpx #1                      ; anything to copy?
    bcc ui_fill_buffer_none
    lda #1
    sta ui_ready
ui_fill_buffer_none:
    rts

; ui_put_track: the number of song ui_song (counting from 1) after TRACK, in UI_TRACK_DIGITS
; tiles, and its 28-tile name. X = buffer index.
ui_put_track:
    lda #>UI_TRACK_NUM
    sta ui_buf,x
    lda #<UI_TRACK_NUM
    sta ui_buf+1,x
    lda #UI_TRACK_DIGITS
    sta ui_buf+2,x
    ldy ui_song
    iny                         ; tracks count from 1 on screen
    tya
.if UI_TRACK_DIGITS = 3
    jsr ui_decimal3
    sta ui_buf+5,x
    tya
    sta ui_buf+4,x
    lda ui_hundreds
    sta ui_buf+3,x
.else
    jsr ui_decimal
    sta ui_buf+4,x
    tya
    sta ui_buf+3,x
.endif
    lda #>UI_ROW_NAME
    sta ui_buf+3+UI_TRACK_DIGITS,x
    lda #<UI_ROW_NAME
    sta ui_buf+4+UI_TRACK_DIGITS,x
    lda #UI_NAME_LEN
    sta ui_buf+5+UI_TRACK_DIGITS,x
    txa
    clc
    adc #6+UI_TRACK_DIGITS
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
ui_put_text_char:
    lda (ui_ptr),y
    beq ui_put_text_blanks
    cmp #$60
    bcc ui_put_text_upper
    sbc #$20                    ; carry set: a-z -> A-Z, {|}~ -> [\]^
ui_put_text_upper:
    sta ui_buf,x
    inx
    iny
    cpy #UI_NAME_LEN
    bne ui_put_text_char
    rts
ui_put_text_blanks:
    lda #' '
ui_put_text_blank:
    sta ui_buf,x
    inx
    iny
    cpy #UI_NAME_LEN
    bne ui_put_text_blank
    rts

.if UI_TRACK_DIGITS = 3
; ui_decimal3: A (0-255) as three digit tiles: ui_hundreds = hundreds, Y = tens, A = ones.
ui_decimal3:
    ldy #'0'-1
    sec
ui_decimal3_hundreds:
    iny
    sbc #100
    bcs ui_decimal3_hundreds    ; carry stays set while A >= 0
    adc #100                    ; carry clear: A back to 0-99
    sty ui_hundreds
    ; fall through to ui_decimal
.endif

; ui_decimal: A as two digit tiles (hundreds are dropped): Y = tens, A = ones.
ui_decimal:
    ldy #'0'-1
ui_decimal_tens:
    iny
    cpy #'9'+1
    bne ui_decimal_subtract
    ldy #'0'
ui_decimal_subtract:
    sec
    sbc #10
    bcs ui_decimal_tens
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
ui_put_paused_char:
    lda ui_paused
    beq ui_put_paused_blank
    lda ui_paused_text,y
ui_put_paused_blank:                         ; A = 0: the blank tile
    sta ui_buf,x
    inx
    iny
    cpy #6
    bne ui_put_paused_char
    lda #0
    sta ui_pause_dirty
    rts

; ui_voice_level: A = the level (0-15) of voice Y (pulse 1, pulse 2, triangle, noise) from the
; registers the player last wrote: 0 when paused or disabled in $4015, the volume of a pulse or
; the noise, 15 for a triangle whose linear counter reload is not 0. Keeps X and Y.
ui_voice_level:
    lda ui_paused
    bne ui_voice_level_silent
    lda apu_shadow+$15
    and ui_voice_bit,y
    beq ui_voice_level_silent
    stx ui_x
    ldx ui_voice_reg,y
    lda apu_shadow,x
    ldx ui_x
    cpy #2
    bne ui_voice_level_volume
    and #$7F
    beq ui_voice_level_done
    lda #15
    rts
ui_voice_level_volume:
    and #$0F
ui_voice_level_done:
    rts
ui_voice_level_silent:
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
ui_put_meter_segment:
    lda ui_level
    cmp #2
    bcc ui_put_meter_partial
    sbc #2                      ; carry set
    sta ui_level
    lda #TILE_METER_FULL
    sta ui_buf,x
    jmp ui_put_meter_next
ui_put_meter_partial:
    adc #TILE_METER_OFF         ; carry clear: level 0 -> off, 1 -> half lit
    sta ui_buf,x
    lda #0
    sta ui_level
ui_put_meter_next:
    inx
    dey
    bne ui_put_meter_segment
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
    .byte >UI_TEXT_OF, <UI_TEXT_OF
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
ui_end:                         ; tests measure the UI's size from ui_init to here
