; The music player: decodes the song data format of src/rom/encode.rs.
;
; A song is a set of streams, each writing one register group (or, in pairs mode, any
; registers). On every tick frame (see music_update's tick clock) the player runs each stream
; that is not waiting until it reaches a command that ends the frame, writing the APU registers
; in exactly the song's order. Waits count ticks.
;
; Two kinds of stream code:
; - Voice blocks (mb_control, mb_pulse1, mb_pulse2, mb_triangle, mb_noise): straight-line code
;   for the mask-mode stream of one register group, played in that fixed order. A block owns a
;   slot of zero-page state and names it directly, so it needs no index register, no copy of
;   the stream address and no dispatch: a frame with writes costs about half what one loop
;   serving every stream cost. The encoder puts a song's mask streams first, in block order
;   (src/rom/encode.rs), and music_start_song chains the blocks the song uses through
;   music_link, so an absent voice costs nothing.
; - Pairs streams (any registers, any order): played after the blocks by one loop.
; The blocks are in music_blocks.s, made by one macro (voice_block).
;
; Stream commands (see src/rom/encode.rs):
;   $00-$7F 0EEE MMMM  mask streams: a value for each set bit of M (bit 0 = the group's first
;                      register), in rising order; the frame ends, E empty ticks follow
;   $00-$7F EEEE NNNN  pairs streams: N+1 (register, value) pairs; E = 0..6: frame ends, E empty
;                      ticks follow; E = 7: the frame goes on
;   $80-$8F            frame ends, then (cmd & $0F) empty ticks
;   $90-$9F d          play cmd-$8F commands from d (1-253) bytes before this command, then
;                      come back (a near reference: two bytes, and no address to relocate)
;   $A0-$DF            play phrase cmd-$A0 of the song's table (count, lo, hi), then come back
;   $E0-$EF            voice blocks but the control's: the group's first register gets volume
;                      cmd & $0F, its high 4 bits kept (read from apu_shadow); the frame ends
;   $F0-$FC lo hi      play cmd-$EF commands at hi:lo, then come back
;                      (references and phrases nest two deep: a target may hold references
;                      whose own targets hold none)
;   $FD n lo hi        play n commands at hi:lo, then come back
;   $FE bank lo hi     go on at bank:hi:lo
;   $FF                end of stream
;
; Cycle costs are not written here: the assembler's cycle listing counts them (page crossings
; included), and src/rom/cycles_tests.rs checks the reference decoder's figures
; (src/rom/decode.rs) against it path by path.

; select_bank bank: shows the bank of the stream data (`bank`: the operand of an lda, such as
; music_bank+2k or {music_bank,x}) where the data is banked: UxROM, and the banked NSF. The
; voice blocks use it inside a .scope, where ca65 needs `::` to test a global symbol.
.macro select_bank bank
.if ::MAPPER_UXROM
    lda bank
    tay
    sta bank_table,y            ; bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef ::NSF_BANKED
    lda bank                    ; the NSF's 4 KiB pages at $8000-$BFFF (asm/nsf.s)
    jsr nsf_select_bank
.endif
.endmacro

; same_page target: after a hot branch, warns at link time when the branch crosses a page to
; reach `target`: taken, it would cost one cycle more than the reference decoder
; (src/rom/decode.rs) counts. ROM builds must not warn (src/rom/cycles_tests.rs checks); an
; NSF's player moves with its song data, so there it may.
.macro same_page target
.assert >* = >(target), warning, "a hot branch crosses a page"
.endmacro

; -----------------------------------------------------------------------------------------------
;; music_init: builds the write stub "sta $40rr / jmp music_write_done" in zero page.
;; Call once after RAM is cleared, before music_start_song.
;; Writes: music_stub. Trashes: A, flags. Preserves: X, Y.
.proc music_init
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
.endproc

; -----------------------------------------------------------------------------------------------
;; music_start_song: starts song A (0 .. MUSIC_SONG_COUNT-1; out of range plays song 0).
;; Performs the song's init writes now; its frame 0 plays at the next NMI. Safe to call from
;; the main loop while NMIs run: no stream plays until it is done.
;; Reads: A, the song table and header. Writes: the player's zero page, apu_shadow, the APU
;; registers of the song's init list. Trashes: A, X, Y, flags.
.proc music_start_song
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
    ldx #MUSIC_MAX_STREAMS*2-1  ; every slot starts empty (address 0: stream data is at $8000
    lda #0                      ; and up), with no wait, y = 0 and no back-reference
msm_clear:
    sta music_ptrs,x
    sta music_wait,x            ; and music_y
    sta music_refs,x            ; and music_bank
    sta music_refs2,x
    dex
    bpl msm_clear
    sta music_pairs_n
    sta music_x                 ; slots of the voice blocks in use, one bit each
    ldy #0
    lda (music_ptr),y           ; header: stream count
    iny
    pha                         ; music_streams, once the song is set up
    sta music_tmp
    ldx #0
msm_clock:                      ; tick step, modulus, init list address: 16 bits each (the
                                ; address waits in music_phrases until the streams are read)
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
    lda music_tmp
    beq msm_links
msm_stream:                     ; mode, bank (banked data only), address of each stream
    lda (music_ptr),y           ; mode: register group 0-5 (mask), 6 (pairs)
    iny
    tax
    lda msm_slot_of_mode,x      ; the slot of the group's voice block, or $FF
    bmi msm_pairs_slot
    tax
    lda msm_slot_bit,x
    ora music_x
    sta music_x
    jmp msm_slot
msm_pairs_slot:                 ; a pairs stream takes the first free slot (the mask streams
    ldx #0                      ; come first, so theirs are taken by now)
msm_free:
    lda music_ptrs+1,x
    beq msm_pairs
    inx
    inx
    bne msm_free
msm_pairs:
    txa
    ldx music_pairs_n
    sta music_pairs,x
    inc music_pairs_n
    tax
msm_slot:                       ; x = 2k (`::`: ca65 looks for the global symbols in a .proc)
.if ::MAPPER_UXROM
    lda (music_ptr),y           ; banked data only: the bank (NROM and unbanked NSF headers
    iny                         ; leave it out; music_bank stays 0)
    sta music_bank,x
.endif
.ifdef ::NSF_BANKED
    lda (music_ptr),y
    iny
    sta music_bank,x
.endif
    lda (music_ptr),y
    iny
    sta music_ptrs,x
    lda (music_ptr),y
    iny
    sta music_ptrs+1,x
    dec music_tmp
    bne msm_stream
msm_links:                      ; chain the blocks in use, last to first: each goes on to the
    sty music_tmp               ; next, the last to the pairs streams, or to mu_done
    lda #<mu_done
    sta music_first
    lda #>mu_done
    sta music_first+1
    lda music_pairs_n
    beq msm_link_blocks
    lda #<mu_pairs_start
    sta music_first
    lda #>mu_pairs_start
    sta music_first+1
msm_link_blocks:
    ldx #2*4                    ; slot 4 (noise) down to slot 0 (control)
msm_link:
    lda msm_slot_bit,x
    and music_x
    beq msm_link_next
    lda music_first
    sta music_link,x
    lda music_first+1
    sta music_link+1,x
    lda msm_blocks,x
    sta music_first
    lda msm_blocks+1,x
    sta music_first+1
msm_link_next:
    dex
    dex
    bpl msm_link
    lda music_phrases+1         ; the init list, shared by the songs that have the same
    pha
    lda music_phrases
    pha
    lda music_tmp               ; the phrase table follows the stream entries
    clc
    adc music_ptr
    sta music_phrases
    lda music_ptr+1
    adc #0
    sta music_phrases+1
    pla
    sta music_ptr
    pla
    sta music_ptr+1
    ldy #0
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
    sty apu_shadow_y            ; the UI's copy of the register (level meters, pause)
    ldy music_stub+1
    sta apu_shadow,y
    ldy apu_shadow_y
    dex
    bne msm_write
    lda #<music_write_done
    sta music_stub+4
    lda #>music_write_done
    sta music_stub+5
msm_done:
    pla
    sta music_streams           ; from here on the NMI plays the song
    rts

msm_slot_of_mode:               ; x = 2k of the voice block of each mode; $FF: pairs slot
    .byte 2, 4, 6, 8, $FF, 0, $FF   ; groups 0-3 pulse 1 to noise, 4 DMC (no block), 5 control
msm_slot_bit:                   ; by x = 2k
    .byte 1, 0, 2, 0, 4, 0, 8, 0, 16, 0
msm_blocks:                     ; by x = 2k
    .addr mb_control, mb_pulse1, mb_pulse2, mb_triangle, mb_noise
.endproc

; -----------------------------------------------------------------------------------------------
;; music_update: plays one frame. Called at the start of the NMI. The tick clock first: the
;; streams run only on tick frames, and their waits count ticks. On a tick the chain of voice
;; blocks runs (music_first, music_link), then the pairs streams, then mu_done (its labels are
;; entered from the blocks, so it is not a .proc).
;; Reads: the song's streams. Writes: the player's zero page, APU registers, apu_shadow;
;; UxROM: selects banks and gives bank_current back. Trashes: A, X, Y, flags.
music_update:
    lda music_streams
    beq mu_rts                  ; no song, or paused: the clock stops too
    same_page mu_rts
    clc
    lda music_tick
    adc music_tick_step
    sta music_tick
    lda music_tick+1
    adc music_tick_step+1
    bpl mu_tick                 ; reached the modulus: a tick
    same_page mu_tick
    sta music_tick+1
mu_rts:
    rts
mu_tick:
    tay
    lda music_tick              ; the clock goes back below zero
    sbc music_tick_mod          ; carry is set: the sum was >= 0 with no borrow
    sta music_tick
    tya
    sbc music_tick_mod+1
    sta music_tick+1
    jmp (music_first)           ; the first voice block
mu_done:
.if MAPPER_UXROM
    lda bank_current            ; give the main code its bank back
    tax
    sta bank_table,x
.endif
    rts

.include "music_blocks.s"    ; the five voice blocks (mb_control ... mb_noise)

; -----------------------------------------------------------------------------------------------
; The pairs streams, after the blocks: one loop over music_pairs.
mu_pairs_start:
    lda #0
    sta music_pairs_i
mu_pairs_next:
    ldy music_pairs_i
    cpy music_pairs_n
    bcs mu_pairs_done
    same_page mu_pairs_done
    inc music_pairs_i
    ldx music_pairs,y           ; x = 2k: the stream's slot
    lda music_wait,x
    beq mu_pairs_play
    same_page mu_pairs_play
    dec music_wait,x
    jmp mu_pairs_next
mu_pairs_done:
    jmp mu_done
mu_pairs_play:
    select_bank {music_bank,x}
mu_pairs_cmd:
    lda music_ptrs,x
    sta music_ptr
    lda music_ptrs+1,x
    sta music_ptr+1
    ldy music_y,x
    cpy #$C0                    ; keep y small: a command is at most 33 bytes
    bcs mu_pairs_fold
    lda (music_ptr),y
    bmi mu_pairs_special
    iny
    sta music_hdr               ; EEEE NNNN
    stx music_x                 ; the write loop counts with x
    and #$0F
    tax                         ; x = writes - 1
mu_write:
    lda (music_ptr),y           ; register low byte
    iny
    sta music_stub+1
    lda (music_ptr),y           ; value
    iny
    jmp music_stub
music_write_done:
    sty apu_shadow_y            ; the UI's copy of the register (level meters, pause)
    ldy music_stub+1
    sta apu_shadow,y
    ldy apu_shadow_y
    dex
    bpl mu_write
    same_page mu_write
    ldx music_x
    lda music_hdr
    cmp #$70
    bcs mu_pairs_counted        ; E = 7: the frame goes on
    lsr                         ; E = empty ticks after this one
    lsr
    lsr
    lsr
    sta music_wait,x
    jsr mu_frame_end
    jmp mu_pairs_next
mu_pairs_counted:               ; the command is done and the frame goes on: count it as a
    jsr mu_frame_end            ; frame end does (the wait stays 0)
    jmp mu_pairs_cmd
mu_pairs_fold:
    jsr mu_fold
    jmp mu_pairs_cmd
mu_pairs_special:
    jsr mu_special              ; carry set: the frame has ended
    bcc mu_pairs_cmd
    jmp mu_pairs_next

; -----------------------------------------------------------------------------------------------
; Code shared by the blocks and the pairs loop: x = the stream's slot (2k).

;; mu_frame_end: the stream ended a command at offset y (its wait is set). Inside a
;; back-reference, counts the command and comes back after the reference when it was the last;
;; else keeps y, folding it into the address once it passes $C0 (so y never wraps: a command is
;; at most 33 bytes). The blocks enter at mu_ref_return and mu_fold too.
;; Reads: X = the slot (2k), Y = the offset. Writes: the slot's music_y, music_ptrs, music_refs,
;; music_ret (nested: music_refs2, music_ret2). Trashes: A, flags. Preserves: X, Y.
mu_frame_end:
    lda music_refs,x
    beq mu_keep_y
    same_page mu_keep_y
    dec music_refs,x
    bne mu_keep_y
    same_page mu_keep_y
mu_ref_return:                  ; the reference is done: go on after it
    lda music_ret,x
    sta music_ptrs,x
    lda music_ret+1,x
    sta music_ptrs+1,x
    lda #0
    sta music_y,x
    lda music_refs2,x
    bne mu_ref_outer
    same_page mu_ref_outer
    rts
mu_ref_outer:                   ; back in the outer reference, after the command that entered
    sec                         ; the inner one: that command is done, count it
    sbc #1
    sta music_refs,x
    lda music_ret2,x            ; the outer reference's return address
    sta music_ret,x
    lda music_ret2+1,x
    sta music_ret+1,x
    lda #0
    sta music_refs2,x
    lda music_refs,x
    beq mu_ref_return           ; it was the outer one's last command: back from it too
    rts
mu_keep_y:
    sty music_y,x
    cpy #$C0
    bcs mu_fold
    same_page mu_fold
    rts
;; mu_fold: music_ptrs,x += y, music_y,x = 0 (once per 192 bytes of a stream).
;; Reads: X = the slot (2k), Y. Trashes: A, flags. Preserves: X, Y.
.proc mu_fold
    tya
    clc
    adc music_ptrs,x
    sta music_ptrs,x
    lda music_ptrs+1,x
    adc #0
    sta music_ptrs+1,x
    lda #0
    sta music_y,x
    rts
.endproc

;; mu_special: A = a command $80-$FF read at offset y. Returns carry set when the stream's
;; frame has ended (a wait, the end of the stream), carry clear when decoding goes on at
;; music_ptrs,x + music_y,x (a back-reference, a phrase, a jump).
;; Reads: A, X = the slot (2k), Y, the stream (through music_ptr) and the phrase table.
;; Writes: the slot's state, music_ptr, music_hdr, music_phrase_k; UxROM and banked NSF: the
;; bank. Trashes: A, Y, flags. Preserves: X.
mu_special:
    iny
    cmp #$90
    bcs mu_ref_or_jump
    and #$0F                    ; a wait: the frame ends, A more empty ticks
    sta music_wait,x
    jsr mu_frame_end
    sec
    rts
mu_ref_or_jump:
    sta music_hdr
    lda music_ptrs,x            ; the operands are read through music_ptr
    sta music_ptr
    lda music_ptrs+1,x
    sta music_ptr+1
    lda music_refs,x            ; a reference (or phrase) inside a reference: keep the
    bne mu_nest                 ; outer one's count and return address
mu_nested:
    lda music_hdr
    cmp #$A0
    bcc mu_near
    cmp #$E0
    bcc mu_phrase
    cmp #$FD
    bcs mu_long
    sbc #$EE                    ; carry clear: A - $EF = commands to play
    sta music_refs,x
mu_ref_enter:                   ; y = offset of the target address
    tya
    clc
    adc #2
    adc music_ptr               ; return address = ptr + y + 2
    sta music_ret,x
    lda music_ptr+1
    adc #0
    sta music_ret+1,x
    lda (music_ptr),y
    sta music_ptrs,x
    iny
    lda (music_ptr),y
    sta music_ptrs+1,x
mu_go_on:                       ; decoding goes on at music_ptrs,x
    lda #0
    sta music_y,x
    clc
    rts
mu_near:                        ; A = $90 + count - 1, carry clear; y = offset of d
    sbc #$8E                    ; carry clear: A - $8F = commands to play
    sta music_refs,x
    tya
    sec
    adc music_ptr               ; return address = ptr + y + 1, after d
    sta music_ret,x
    lda music_ptr+1
    adc #0
    sta music_ret+1,x
    lda (music_ptr),y           ; d (1-253): the target is d bytes before the command,
    clc                         ; d + 2 before the return address
    adc #2
    sta music_hdr
    lda music_ret,x
    sec
    sbc music_hdr
    sta music_ptrs,x
    lda music_ret+1,x
    sbc #0
    sta music_ptrs+1,x
    jmp mu_go_on
mu_phrase:                      ; A = $A0 + k, carry clear; y = offset after the command
    sbc #$9F                    ; k = A - $A0
    sta music_phrase_k
    asl
    adc music_phrase_k          ; 3k: the entry (carry clear: k < 64)
    sty music_hdr
    tay
    lda music_hdr               ; return address = ptr + offset after the command
    clc
    adc music_ptr
    sta music_ret,x
    lda music_ptr+1
    adc #0
    sta music_ret+1,x
    lda (music_phrases),y       ; commands to play
    sta music_refs,x
    iny
    lda (music_phrases),y       ; address low
    sta music_ptrs,x
    iny
    lda (music_phrases),y       ; address high
    sta music_ptrs+1,x
    jmp mu_go_on
mu_nest:                        ; (jumps and the stream's end never come here: no reference
    sta music_refs2,x           ; target holds them)
    lda music_ret,x
    sta music_ret2,x
    lda music_ret+1,x
    sta music_ret2+1,x
    jmp mu_nested
mu_long:
    beq mu_long_ref             ; $FD
    cmp #$FF
    beq mu_stop
    lda (music_ptr),y           ; $FE: bank, then address
    sta music_bank,x
    iny
    lda (music_ptr),y
    sta music_ptrs,x
    iny
    lda (music_ptr),y
    sta music_ptrs+1,x
    select_bank {music_bank,x}
    jmp mu_go_on
mu_long_ref:
    lda (music_ptr),y
    iny
    sta music_refs,x
    jmp mu_ref_enter
mu_stop:                        ; stay on the $FF; look again in 255 ticks
    dey
    lda #$FF
    sta music_wait,x
    sty music_y,x
    sec
    rts


.if MAPPER_UXROM
; bank_table: writing bank n to bank_table+n selects it without a bus conflict.
bank_table:
    .byte 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
.endif
