; The on-screen player's buffer: what the next NMI copies to the nametable (asm/ui.s). Each
; ui_put_* appends one entry (address high, low, tile count, tiles) at buffer index X and
; leaves X after it; ui_fill_buffer ends the buffer with 0.

;;
; The updates for the next NMI. A new song's text is one buffer on its own; otherwise the
; time, the status text and the meters that changed. Clobbers A, X, Y.
.proc ui_fill_buffer
    ldx #0
    lda music_song
    cmp ui_song
    beq time
    sta ui_song
    jsr ui_put_track
    jmp end
time:
    lda ui_time_dirty
    beq status
    jsr ui_put_time
status:
    lda ui_status_dirty
    beq meters
    jsr ui_put_status
meters:                         ; at most UI_METERS_PER_FRAME, each voice in turn first
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
meter:
    jsr ui_voice_level
    cmp ui_levels,y
    beq meter_next
    pha
    lda ui_meters_left
    beq meter_later             ; no room: this meter waits for the next buffer
    dec ui_meters_left
    pla
    sta ui_levels,y
    jsr ui_put_meter
    jmp meter_next
meter_later:
    pla
meter_next:
    iny
    tya
    and #3
    tay
    dec ui_meter_count
    bne meter
end:
    lda #0
    sta ui_buf,x
    stx ui_buf_end
    cpx #1                      ; anything to copy?
    bcc none
    lda #1
    sta ui_ready
none:
    rts
.endproc

;;
; The number of song ui_song (counting from 1) after TRACK, in UI_TRACK_DIGITS tiles, and
; its 28-tile name (falls through to ui_put_text). X = buffer index. Clobbers A, Y.
.proc ui_put_track
    lda #>UI_TRACK_NUM
    sta ui_buf,x
    lda #<UI_TRACK_NUM
    sta ui_buf+1,x
    lda #UI_TRACK_DIGITS
    sta ui_buf+2,x
    ldy ui_song
    iny                         ; tracks count from 1 on screen
    tya
.if ::UI_TRACK_DIGITS = 3
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
.endproc

;;
; UI_NAME_LEN tiles into ui_buf at X from the zero-terminated text at ui_ptr: lower case as
; upper case, blanks after the end. Leaves X after the tiles. Clobbers A, Y.
.proc ui_put_text
    ldy #0
char:
    lda (ui_ptr),y
    beq blanks
    cmp #$60
    bcc upper
    sbc #$20                    ; carry set: a-z -> A-Z, {|}~ -> [\]^
upper:
    sta ui_buf,x
    inx
    iny
    cpy #UI_NAME_LEN
    bne char
    rts
blanks:
    lda #' '
blank:
    sta ui_buf,x
    inx
    iny
    cpy #UI_NAME_LEN
    bne blank
    rts
.endproc

.if ::UI_TRACK_DIGITS = 3
;;
; A (0-255) as three digit tiles: ui_hundreds = hundreds, Y = tens, A = ones (falls through
; to ui_decimal).
.proc ui_decimal3
    ldy #'0'-1
    sec
hundreds:
    iny
    sbc #100
    bcs hundreds                ; carry stays set while A >= 0
    adc #100                    ; carry clear: A back to 0-99
    sty ui_hundreds
    ; fall through
.endproc
.endif

;;
; A as two digit tiles (hundreds are dropped): Y = tens, A = ones.
.proc ui_decimal
    ldy #'0'-1
tens:
    iny
    cpy #'9'+1
    bne subtract
    ldy #'0'
subtract:
    sec
    sbc #10
    bcs tens
    adc #10+'0'                 ; carry clear: the ones digit as a tile
    rts
.endproc

;;
; "mm:ss". X = buffer index. Clobbers A.
.proc ui_put_time
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
.endproc

;;
; The status: "PAUSED" while paused, "END" once the song has ended, blanks otherwise.
; X = buffer index. Clobbers A, Y.
.proc ui_put_status
    lda #>UI_STATUS
    sta ui_buf,x
    lda #<UI_STATUS
    sta ui_buf+1,x
    lda #UI_STATUS_LEN
    sta ui_buf+2,x
    inx
    inx
    inx
    ldy #ui_status_blank-ui_status_text
    lda ui_ended
    beq paused
    ldy #ui_status_end-ui_status_text
paused:
    lda ui_paused
    beq copy
    ldy #ui_status_paused-ui_status_text
copy:
    tya
    clc
    adc #UI_STATUS_LEN
    sta ui_y                    ; where this text ends
char:
    lda ui_status_text,y
    sta ui_buf,x
    inx
    iny
    cpy ui_y
    bne char
    lda #0
    sta ui_status_dirty
    rts
.endproc

;;
; A = the level (0-15) of voice Y (pulse 1, pulse 2, triangle, noise) from the registers the
; player last wrote: 0 when paused or disabled in $4015, the volume of a pulse or the noise,
; 15 for a triangle whose linear counter reload is not 0. Keeps X and Y.
.proc ui_voice_level
    lda ui_paused
    bne silent
    lda apu_shadow+$15
    and ui_voice_bit,y
    beq silent
    stx ui_x
    ldx ui_voice_reg,y
    lda apu_shadow,x
    ldx ui_x
    cpy #2
    bne volume
    and #$7F
    beq done
    lda #15
    rts
volume:
    and #$0F
done:
    rts
silent:
    lda #0
    rts
.endproc

;;
; The meter of voice Y showing level A. X = buffer index; keeps Y. Clobbers A.
.proc ui_put_meter
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
segment:
    lda ui_level
    cmp #2
    bcc partial
    sbc #2                      ; carry set
    sta ui_level
    lda #TILE_METER_FULL
    sta ui_buf,x
    jmp next
partial:
    adc #TILE_METER_OFF         ; carry clear: level 0 -> off, 1 -> half lit
    sta ui_buf,x
    lda #0
    sta ui_level
next:
    inx
    dey
    bne segment
    ldy ui_y
    rts
.endproc

ui_voice_bit:
    .byte $01, $02, $04, $08
ui_voice_reg:
    .byte $00, $04, $08, $0C
ui_meter_hi:
    .byte >(UI_METER), >(UI_METER+64), >(UI_METER+128), >(UI_METER+192)
ui_meter_lo:
    .byte <(UI_METER), <(UI_METER+64), <(UI_METER+128), <(UI_METER+192)
