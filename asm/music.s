; The music player: decodes the song data format of src/rom/encode.rs.
;
; Each song is a set of streams (one per register group, in the order the song writes them).
; On every tick frame (see music_update's tick clock), music_update runs each stream that is not
; waiting until it reaches a command that ends the frame, writing the APU registers in exactly
; the song's order. Waits count ticks.
;
; Stream commands (see src/rom/encode.rs):
;   $00-$7F 0EEE MMMM  mask streams: a value for each set bit of M (bit 0 = the group's first
;                      register), in rising order; the frame ends, E empty ticks follow
;   $00-$7F EEEE NNNN  pairs streams: N+1 (register, value) pairs; E = 0..6: frame ends, E empty
;                      ticks follow; E = 7: the frame goes on
;   $80-$9F            frame ends, then (cmd & $1F) empty ticks
;   $A0-$DF            play phrase cmd-$A0 of the song's table (count, lo, hi), then come back
;   $E0-$FC lo hi      play cmd-$DF commands at hi:lo, then come back (no nesting)
;   $FD n lo hi        play n commands at hi:lo, then come back
;   $FE bank lo hi     go on at bank:hi:lo
;   $FF                end of stream
;
; Cycle costs are noted per instruction (page crossings add 1 to (ptr),y reads).

; -----------------------------------------------------------------------------------------------
; music_init: builds the write stub "sta $40rr / jmp music_write_done" in zero page.
; Call once after RAM is cleared, before music_start_song.
music_init:
    lda #$8D                    ; sta absolute
    sta music_stub
    lda #$40                    ; high byte of $40rr
    sta music_stub+2
    lda #$4C                    ; jmp absolute
    sta music_stub+3
    lda #<music_write_done
    sta music_stub+4
    lda #>music_write_done
    sta music_stub+5
    rts

; -----------------------------------------------------------------------------------------------
; music_start_song: starts song A (0 .. MUSIC_SONG_COUNT-1; out of range plays song 0).
; Performs the song's init writes now; its frame 0 plays at the next NMI. Clobbers A, X, Y.
; Safe to call from the main loop while NMIs run: no stream plays until it is done.
music_start_song:
    ldx #0
    stx music_streams           ; the NMI plays nothing while the song is set up
    cmp #MUSIC_SONG_COUNT
    bcc msm_index_ok
    txa
msm_index_ok:
    sta music_song
    tax
    lda music_song_lo,x
    sta music_ptr
    lda music_song_hi,x
    sta music_ptr+1
    ldy #0
    lda (music_ptr),y           ; header: stream count
    iny
    sta music_tmp
    ldx #0
msm_clock:                      ; tick step, modulus, phrase table address: 16 bits each
    lda (music_ptr),y
    iny
    sta music_tick_step,x
    inx
    cpx #6
    bcc msm_clock
    sec                         ; the clock starts at -step, so frame 0 is a tick
    lda #0
    sbc music_tick_step
    sta music_tick
    lda #0
    sbc music_tick_step+1
    sta music_tick+1
    ldx #0
    cpx music_tmp
    beq msm_init
msm_stream:                     ; mode, bank, address low, address high of each stream
    lda (music_ptr),y           ; mode: register group 0-5 (mask), 6 (pairs)
    iny
    sty music_hdr
    tay
    lda mm_vec_lo,y
    sta music_vec_lo,x
    lda mm_vec_hi,y
    sta music_vec_hi,x
    ldy music_hdr
    lda (music_ptr),y
    iny
    sta music_bank,x
    lda (music_ptr),y
    iny
    sta music_lo,x
    lda (music_ptr),y
    iny
    sta music_hi,x
    lda #0
    sta music_wait,x
    sta music_refs,x
    sta music_y,x
    inx
    cpx music_tmp
    bcc msm_stream
msm_init:                       ; init writes: count, then (register, value) pairs
    lda (music_ptr),y
    iny
    tax
    beq msm_done
    lda #<msm_write_done        ; the stub comes back here for now
    sta music_stub+4
    lda #>msm_write_done
    sta music_stub+5
msm_write:
    lda (music_ptr),y
    iny
    sta music_stub+1
    lda (music_ptr),y
    iny
    jmp music_stub
msm_write_done:
    sty apu_shadow_y            ; 3 the UI's copy of the register (level meters, pause)
    ldy music_stub+1            ; 3
    sta apu_shadow,y            ; 5
    ldy apu_shadow_y            ; 3
    dex
    bne msm_write
    lda #<music_write_done
    sta music_stub+4
    lda #>music_write_done
    sta music_stub+5
msm_done:
    lda music_tmp
    sta music_streams           ; from here on the NMI plays the song
    rts

; -----------------------------------------------------------------------------------------------
; music_update: plays one frame. Called at the start of the NMI. Clobbers A, X, Y.
; The tick clock first (about 30 cycles): the streams run only on tick frames, and their waits
; count ticks. On a tick, an idle (waiting) stream costs 22 cycles; a playing mask stream about
; 115 plus 10 per write, a pairs stream about 100 plus 32 per write.
music_update:
    lda music_streams           ; 3
    beq mu_rts                  ; 2 no song, or paused: the clock stops too
    clc                         ; 2
    lda music_tick              ; 3
    adc music_tick_step         ; 3
    sta music_tick              ; 3
    lda music_tick+1            ; 3
    adc music_tick_step+1       ; 3
    bpl mu_tick                 ; 2/3 reached the modulus: a tick
    sta music_tick+1            ; 3
mu_rts:
    rts
mu_tick:
    tay                         ; 2
    lda music_tick              ; 3 the clock goes back below zero
    sbc music_tick_mod          ; 3 carry is set: the sum was >= 0 with no borrow
    sta music_tick              ; 3
    tya                         ; 2
    sbc music_tick_mod+1        ; 3
    sta music_tick+1            ; 3
    ldx #0                      ; 2
    jmp mu_stream               ; 3
mu_next_x:                      ; x = the stream just done
    inx                         ; 2
    cpx music_streams           ; 3
    bcs mu_done                 ; 2
mu_stream:
    lda music_wait,x            ; 4
    beq mu_decode               ; 2/3
    dec music_wait,x            ; 6
    jmp mu_next_x               ; 3
mu_done:
.if MAPPER_UXROM
    lda bank_current            ; 3 give the main code its bank back
    tax                         ; 2
    sta bank_table,x            ; 5
.endif
    rts

mu_decode:
.if MAPPER_UXROM
    lda music_bank,x            ; 4
    tay                         ; 2
    sta bank_table,y            ; 5 bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef NSF_BANKED
    lda music_bank,x            ; the NSF's 4 KiB pages at $8000-$BFFF (asm/nsf.s)
    jsr nsf_select_bank
.endif
    lda music_lo,x              ; 4
    sta music_ptr               ; 3
    lda music_hi,x              ; 4
    sta music_ptr+1             ; 3
    lda music_vec_lo,x          ; 4
    sta music_vec               ; 3
    lda music_vec_hi,x          ; 4
    sta music_vec+1             ; 3
    ldy music_y,x               ; 4
; Here and below x = the stream index, except inside the write loop.
mu_command:
    cpy #$C0                    ; 2 keep y small: a command is at most 33 bytes
    bcs mu_rebase               ; 2
    lda (music_ptr),y           ; 5
    bmi mu_special              ; 2
    iny                         ; 2
    sta music_hdr               ; 3
    jmp (music_vec)             ; 5 mm_group0-5 or mu_pairs
mu_pairs:                       ; A = EEEE NNNN
    stx music_x                 ; 3 the write loop counts with x
    and #$0F                    ; 2
    tax                         ; 2 x = writes - 1
mu_write:                       ; 32 cycles per write
    lda (music_ptr),y           ; 5 register low byte
    iny                         ; 2
    sta music_stub+1            ; 3
    lda (music_ptr),y           ; 5 value
    iny                         ; 2
    jmp music_stub              ; 3 + sta $40rr 4 + jmp 3
music_write_done:
    sty apu_shadow_y            ; 3 the UI's copy of the register (level meters, pause)
    ldy music_stub+1            ; 3
    sta apu_shadow,y            ; 5
    ldy apu_shadow_y            ; 3
    dex                         ; 2
    bpl mu_write                ; 3
    ldx music_x                 ; 3
    lda music_hdr               ; 3
    cmp #$70                    ; 2
    bcs mu_counted              ; 2 E = 7: the frame goes on
    lsr                         ; 8 E = empty frames after this one
    lsr
    lsr
    lsr
    sta music_wait,x            ; 4
mu_frame_end:                   ; the frame ends for this stream
    lda music_refs,x            ; 4
    bne mu_frame_end_ref        ; 2
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mu_frame_end_ref:
    dec music_refs,x            ; 6
    beq mu_ref_back_end         ; 2
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mu_ref_back_end:                ; the reference is done: go on after it next frame
    lda music_ret_lo,x
    sta music_lo,x
    lda music_ret_hi,x
    sta music_hi,x
    lda #0
    sta music_y,x
    jmp mu_next_x

mu_counted:                     ; a command ended, the frame goes on
    lda music_refs,x            ; 4
    beq mu_command              ; 3
    dec music_refs,x            ; 6
    bne mu_command              ; 3
    lda music_ret_lo,x          ; the reference is done: go on after it now
    sta music_lo,x
    sta music_ptr
    lda music_ret_hi,x
    sta music_hi,x
    sta music_ptr+1
    ldy #0
    jmp mu_command

mu_rebase:                      ; fold y into the address (once per 192 bytes)
    tya
    clc
    adc music_ptr
    sta music_ptr
    sta music_lo,x
    lda music_ptr+1
    adc #0
    sta music_ptr+1
    sta music_hi,x
    ldy #0
    jmp mu_command

mu_special:                     ; A = $80-$FF
    iny                         ; 2
    cmp #$A0                    ; 2
    bcs mu_ref_or_jump          ; 2/3
    and #$1F                    ; 2 wait: the frame ends, A more empty ticks
    sta music_wait,x            ; 4
    jmp mu_frame_end            ; 3
mu_ref_or_jump:
    cmp #$E0                    ; 2
    bcc mu_phrase               ; 2/3
    cmp #$FD                    ; 2
    bcs mu_long                 ; 2
    sbc #$DE                    ; 2 carry clear: A - $DF = commands to play
    sta music_refs,x            ; 4
mu_ref_enter:                   ; y = offset of the target address
    tya
    clc
    adc #2
    adc music_ptr               ; return address = ptr + y + 2
    sta music_ret_lo,x
    lda music_ptr+1
    adc #0
    sta music_ret_hi,x
    lda (music_ptr),y
    sta music_hdr
    iny
    lda (music_ptr),y
    sta music_ptr+1
    sta music_hi,x
    lda music_hdr
    sta music_ptr
    sta music_lo,x
    ldy #0
    jmp mu_command
mu_phrase:                      ; A = $A0 + k, carry clear; y = offset after the command
    sbc #$9F                    ; 2 k = A - $A0
    sta music_phrase_k          ; 3
    asl                         ; 2
    adc music_phrase_k          ; 3 3k: the entry (carry clear: k < 64)
    sty music_hdr               ; 3
    tay                         ; 2
    lda music_hdr               ; 3 return address = ptr + offset after the command
    clc                         ; 2
    adc music_ptr               ; 3
    sta music_ret_lo,x          ; 4
    lda music_ptr+1             ; 3
    adc #0                      ; 2
    sta music_ret_hi,x          ; 4
    lda (music_phrases),y       ; 5 commands to play
    sta music_refs,x            ; 4
    iny                         ; 2
    lda (music_phrases),y       ; 5 address low
    sta music_ptr               ; 3
    sta music_lo,x              ; 4
    iny                         ; 2
    lda (music_phrases),y       ; 5 address high
    sta music_ptr+1             ; 3
    sta music_hi,x              ; 4
    ldy #0                      ; 2
    jmp mu_command              ; 3 about 90 cycles in all
mu_long:
    beq mu_long_ref             ; $FD
    cmp #$FF
    beq mu_stop
    lda (music_ptr),y           ; $FE: bank, then address
    sta music_bank,x
    iny
    lda (music_ptr),y
    sta music_hdr
    iny
    lda (music_ptr),y
    sta music_ptr+1
    sta music_hi,x
    lda music_hdr
    sta music_ptr
    sta music_lo,x
.if MAPPER_UXROM
    lda music_bank,x
    tay
    sta bank_table,y
.endif
.ifdef NSF_BANKED
    lda music_bank,x
    jsr nsf_select_bank
.endif
    ldy #0
    jmp mu_command
mu_long_ref:
    lda (music_ptr),y
    iny
    sta music_refs,x
    jmp mu_ref_enter
mu_stop:                        ; stay on the $FF; look again in 255 frames
    dey
    lda #$FF
    sta music_wait,x
    sty music_y,x
    jmp mu_next_x

; Mask-mode write commands, one routine per register group: each set bit of the header's low
; nibble writes the next value to that register. Four shifts leave E in music_hdr.
; A write costs 18 cycles, a skipped register 8.
mm_group0:
    lsr music_hdr               ; 5
    bcc mm_g0_0                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4000                   ; 4
    sta apu_shadow+$00          ; 4 the UI's copy (meters, pause)
mm_g0_0:
    lsr music_hdr               ; 5
    bcc mm_g0_1                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4001                   ; 4
    sta apu_shadow+$01          ; 4 the UI's copy (meters, pause)
mm_g0_1:
    lsr music_hdr               ; 5
    bcc mm_g0_2                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4002                   ; 4
    sta apu_shadow+$02          ; 4 the UI's copy (meters, pause)
mm_g0_2:
    lsr music_hdr               ; 5
    bcc mm_g0_3                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4003                   ; 4
    sta apu_shadow+$03          ; 4 the UI's copy (meters, pause)
mm_g0_3:
    lda music_hdr               ; 3 E: empty frames after this one (x = stream, unchanged)
    sta music_wait,x            ; 4
    lda music_refs,x            ; 4
    beq mm_g0_end             ; 3
    jmp mu_frame_end_ref
mm_g0_end:
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mm_group1:
    lsr music_hdr               ; 5
    bcc mm_g1_0                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4004                   ; 4
    sta apu_shadow+$04          ; 4 the UI's copy (meters, pause)
mm_g1_0:
    lsr music_hdr               ; 5
    bcc mm_g1_1                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4005                   ; 4
    sta apu_shadow+$05          ; 4 the UI's copy (meters, pause)
mm_g1_1:
    lsr music_hdr               ; 5
    bcc mm_g1_2                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4006                   ; 4
    sta apu_shadow+$06          ; 4 the UI's copy (meters, pause)
mm_g1_2:
    lsr music_hdr               ; 5
    bcc mm_g1_3                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4007                   ; 4
    sta apu_shadow+$07          ; 4 the UI's copy (meters, pause)
mm_g1_3:
    lda music_hdr               ; 3 E: empty frames after this one (x = stream, unchanged)
    sta music_wait,x            ; 4
    lda music_refs,x            ; 4
    beq mm_g1_end             ; 3
    jmp mu_frame_end_ref
mm_g1_end:
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mm_group2:
    lsr music_hdr               ; 5
    bcc mm_g2_0                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4008                   ; 4
    sta apu_shadow+$08          ; 4 the UI's copy (meters, pause)
mm_g2_0:
    lsr music_hdr               ; 5
    bcc mm_g2_1                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4009                   ; 4
    sta apu_shadow+$09          ; 4 the UI's copy (meters, pause)
mm_g2_1:
    lsr music_hdr               ; 5
    bcc mm_g2_2                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $400A                   ; 4
    sta apu_shadow+$0A          ; 4 the UI's copy (meters, pause)
mm_g2_2:
    lsr music_hdr               ; 5
    bcc mm_g2_3                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $400B                   ; 4
    sta apu_shadow+$0B          ; 4 the UI's copy (meters, pause)
mm_g2_3:
    lda music_hdr               ; 3 E: empty frames after this one (x = stream, unchanged)
    sta music_wait,x            ; 4
    lda music_refs,x            ; 4
    beq mm_g2_end             ; 3
    jmp mu_frame_end_ref
mm_g2_end:
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mm_group3:
    lsr music_hdr               ; 5
    bcc mm_g3_0                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $400C                   ; 4
    sta apu_shadow+$0C          ; 4 the UI's copy (meters, pause)
mm_g3_0:
    lsr music_hdr               ; 5
    bcc mm_g3_1                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $400D                   ; 4
    sta apu_shadow+$0D          ; 4 the UI's copy (meters, pause)
mm_g3_1:
    lsr music_hdr               ; 5
    bcc mm_g3_2                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $400E                   ; 4
    sta apu_shadow+$0E          ; 4 the UI's copy (meters, pause)
mm_g3_2:
    lsr music_hdr               ; 5
    bcc mm_g3_3                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $400F                   ; 4
    sta apu_shadow+$0F          ; 4 the UI's copy (meters, pause)
mm_g3_3:
    lda music_hdr               ; 3 E: empty frames after this one (x = stream, unchanged)
    sta music_wait,x            ; 4
    lda music_refs,x            ; 4
    beq mm_g3_end             ; 3
    jmp mu_frame_end_ref
mm_g3_end:
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mm_group4:
    lsr music_hdr               ; 5
    bcc mm_g4_0                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4010                   ; 4
    sta apu_shadow+$10          ; 4 the UI's copy (meters, pause)
mm_g4_0:
    lsr music_hdr               ; 5
    bcc mm_g4_1                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4011                   ; 4
    sta apu_shadow+$11          ; 4 the UI's copy (meters, pause)
mm_g4_1:
    lsr music_hdr               ; 5
    bcc mm_g4_2                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4012                   ; 4
    sta apu_shadow+$12          ; 4 the UI's copy (meters, pause)
mm_g4_2:
    lsr music_hdr               ; 5
    bcc mm_g4_3                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4013                   ; 4
    sta apu_shadow+$13          ; 4 the UI's copy (meters, pause)
mm_g4_3:
    lda music_hdr               ; 3 E: empty frames after this one (x = stream, unchanged)
    sta music_wait,x            ; 4
    lda music_refs,x            ; 4
    beq mm_g4_end             ; 3
    jmp mu_frame_end_ref
mm_g4_end:
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mm_group5:
    lsr music_hdr               ; 5
    bcc mm_g5_0                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4014                   ; 4
    sta apu_shadow+$14          ; 4 the UI's copy (meters, pause)
mm_g5_0:
    lsr music_hdr               ; 5
    bcc mm_g5_1                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4015                   ; 4
    sta apu_shadow+$15          ; 4 the UI's copy (meters, pause)
mm_g5_1:
    lsr music_hdr               ; 5
    bcc mm_g5_2                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4016                   ; 4
    sta apu_shadow+$16          ; 4 the UI's copy (meters, pause)
mm_g5_2:
    lsr music_hdr               ; 5
    bcc mm_g5_3                 ; 2/3
    lda (music_ptr),y           ; 5
    iny                         ; 2
    sta $4017                   ; 4
    sta apu_shadow+$17          ; 4 the UI's copy (meters, pause)
mm_g5_3:
    lda music_hdr               ; 3 E: empty frames after this one (x = stream, unchanged)
    sta music_wait,x            ; 4
    lda music_refs,x            ; 4
    beq mm_g5_end             ; 3
    jmp mu_frame_end_ref
mm_g5_end:
    sty music_y,x               ; 4
    jmp mu_next_x               ; 3
mm_end:                         ; end of the mask routines

mm_vec_lo:                      ; write-command handlers by header mode byte (group, or pairs)
    .byte <mm_group0, <mm_group1, <mm_group2, <mm_group3, <mm_group4, <mm_group5, <mu_pairs
mm_vec_hi:
    .byte >mm_group0, >mm_group1, >mm_group2, >mm_group3, >mm_group4, >mm_group5, >mu_pairs


.if MAPPER_UXROM
; bank_table: writing bank n to bank_table+n selects it without a bus conflict.
bank_table:
    .byte 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
.endif
