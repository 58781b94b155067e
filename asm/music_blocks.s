; The voice blocks of the music player (asm/music.s): one per register group, in play order.
; Written out because our assembler has no macros; they differ only in slot, registers and
; which writes keep a shadow copy.

; -----------------------------------------------------------------------------------------------
; The voice blocks, in play order. Each plays the mask stream in its slot; x is free for the
; shared commands below. A block whose stream waits costs 16 cycles. One that plays a write
; command costs 72 plus, per register written, 10 (14 where the UI keeps a copy in apu_shadow:
; the meters and pause read $4000, $4004, $4008, $400B, $400C and $4015 only); inside a
; back-reference 9 more to count the command, 43 more in the frame that comes back from it.
; The voice blocks (not the control's) also play a volume command ($E0-$EF), which writes
; only the low 4 bits of the group's first register: about 56 cycles in all, the most common
; command of NES-MDB songs (a volume envelope step) in one byte instead of two. Other special
; commands pay 5 cycles ($80-$DF) or 9 ($F0-$FF) for the test.
music_blocks:

; control: $4014-$4017, slot 0 (x = 0)
mb_control_idle:                 ; before the block, in reach of its first branch
    dec music_wait+0            ; 5
    jmp (music_link+0)          ; 5
mb_control:
    lda music_wait+0            ; 3
    bne mb_control_idle         ; 2/3
.if MAPPER_UXROM
    lda music_bank+0            ; 3 the bank of the stream's piece
    tay                         ; 2
    sta bank_table,y            ; 5 bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef NSF_BANKED
    lda music_bank+0
    jsr nsf_select_bank
.endif
mb_control_cmd:
    ldy music_y+0               ; 3
    lda (music_ptrs+0),y        ; 5 the command
    bmi mb_control_special      ; 2/3
    iny                         ; 2
    lsr                         ; 2 bit 0: $4014
    sta music_hdr               ; 3
    bcc mb_control_1            ; 2/3
    lda (music_ptrs+0),y        ; 5
    iny                         ; 2
    sta $4014                   ; 4 $4014 OAM DMA (never written by the compiler)
mb_control_1:
    lsr music_hdr               ; 5 bit 1: $4015
    bcc mb_control_2            ; 2/3
    lda (music_ptrs+0),y        ; 5
    iny                         ; 2
    sta $4015                   ; 4 $4015 channel enables
    sta apu_shadow+$15          ; 4 the UI's copy
mb_control_2:
    lsr music_hdr               ; 5 bit 2: $4016
    bcc mb_control_3            ; 2/3
    lda (music_ptrs+0),y        ; 5
    iny                         ; 2
    sta $4016                   ; 4 $4016 controller strobe (never written by the compiler)
mb_control_3:
    lsr music_hdr               ; 5 bit 3: $4017
    bcc mb_control_e            ; 2/3
    lda (music_ptrs+0),y        ; 5
    iny                         ; 2
    sta $4017                   ; 4 $4017 frame counter
mb_control_e:
    lda music_hdr               ; 3 E: empty ticks after this one
    sta music_wait+0            ; 3
    lda music_refs+0            ; 3
    bne mb_control_ref          ; 2/3 inside a back-reference
mb_control_keep:
    sty music_y+0               ; 3
    cpy #$C0                    ; 2 keep y small: fold it into the address now and then
    bcs mb_control_fold         ; 2
    jmp (music_link+0)          ; 5 the next block
mb_control_ref:
    dec music_refs+0            ; 5 count the command
    bne mb_control_keep         ; 2/3
    ldx #0                      ; 2 the reference is done: go on after it
    jsr mu_ref_return           ; 6
    jmp (music_link+0)          ; 5
mb_control_fold:
    ldx #0                      ; 2
    jsr mu_fold                 ; 6
    jmp (music_link+0)          ; 5
mb_control_special:
    ldx #0                      ; 2
    jsr mu_special              ; 6 carry set: the frame has ended
    bcc mb_control_cmd          ; 2/3 a reference or a jump: its first command now
    jmp (music_link+0)          ; 5

; pulse1: $4000-$4003, slot 1 (x = 2)
mb_pulse1_idle:                 ; before the block, in reach of its first branch
    dec music_wait+2            ; 5
    jmp (music_link+2)          ; 5
mb_pulse1:
    lda music_wait+2            ; 3
    bne mb_pulse1_idle          ; 2/3
.if MAPPER_UXROM
    lda music_bank+2            ; 3 the bank of the stream's piece
    tay                         ; 2
    sta bank_table,y            ; 5 bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef NSF_BANKED
    lda music_bank+2
    jsr nsf_select_bank
.endif
mb_pulse1_cmd:
    ldy music_y+2               ; 3
    lda (music_ptrs+2),y        ; 5 the command
    bmi mb_pulse1_special       ; 2/3
    iny                         ; 2
    lsr                         ; 2 bit 0: $4000
    sta music_hdr               ; 3
    bcc mb_pulse1_1             ; 2/3
    lda (music_ptrs+2),y        ; 5
    iny                         ; 2
    sta $4000                   ; 4 $4000 duty, halt, constant volume, volume
    sta apu_shadow+$00          ; 4 the UI's copy
mb_pulse1_1:
    lsr music_hdr               ; 5 bit 1: $4001
    bcc mb_pulse1_2             ; 2/3
    lda (music_ptrs+2),y        ; 5
    iny                         ; 2
    sta $4001                   ; 4 $4001 sweep
mb_pulse1_2:
    lsr music_hdr               ; 5 bit 2: $4002
    bcc mb_pulse1_3             ; 2/3
    lda (music_ptrs+2),y        ; 5
    iny                         ; 2
    sta $4002                   ; 4 $4002 timer low
mb_pulse1_3:
    lsr music_hdr               ; 5 bit 3: $4003
    bcc mb_pulse1_e             ; 2/3
    lda (music_ptrs+2),y        ; 5
    iny                         ; 2
    sta $4003                   ; 4 $4003 length, timer high
mb_pulse1_e:
    lda music_hdr               ; 3 E: empty ticks after this one
    sta music_wait+2            ; 3
mb_pulse1_ends:                  ; the frame has ended (a write or volume command)
    lda music_refs+2            ; 3
    bne mb_pulse1_ref           ; 2/3 inside a back-reference
mb_pulse1_keep:
    sty music_y+2               ; 3
    cpy #$C0                    ; 2 keep y small: fold it into the address now and then
    bcs mb_pulse1_fold          ; 2
    jmp (music_link+2)          ; 5 the next block
mb_pulse1_ref:
    dec music_refs+2            ; 5 count the command
    bne mb_pulse1_keep          ; 2/3
    ldx #2                      ; 2 the reference is done: go on after it
    jsr mu_ref_return           ; 6
    jmp (music_link+2)          ; 5
mb_pulse1_fold:
    ldx #2                      ; 2
    jsr mu_fold                 ; 6
    jmp (music_link+2)          ; 5
mb_pulse1_special:
    cmp #$E0                    ; 2
    bcc mb_pulse1_shared        ; 2/3
    cmp #$F0                    ; 2
    bcs mb_pulse1_shared        ; 2/3
    eor apu_shadow+$00          ; 4 $E0-$EF: volume (cmd & $0F); $4000's high bits kept
    and #$0F                    ; 2
    eor apu_shadow+$00          ; 4
    sta $4000                   ; 4
    sta apu_shadow+$00          ; 4
    iny                         ; 2
    jmp mb_pulse1_ends          ; 3 music_wait is 0: no empty ticks follow
mb_pulse1_shared:
    ldx #2                      ; 2
    jsr mu_special              ; 6 carry set: the frame has ended
    bcc mb_pulse1_cmd           ; 2/3 a reference or a jump: its first command now
    jmp (music_link+2)          ; 5

; pulse2: $4004-$4007, slot 2 (x = 4)
mb_pulse2_idle:                 ; before the block, in reach of its first branch
    dec music_wait+4            ; 5
    jmp (music_link+4)          ; 5
mb_pulse2:
    lda music_wait+4            ; 3
    bne mb_pulse2_idle          ; 2/3
.if MAPPER_UXROM
    lda music_bank+4            ; 3 the bank of the stream's piece
    tay                         ; 2
    sta bank_table,y            ; 5 bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef NSF_BANKED
    lda music_bank+4
    jsr nsf_select_bank
.endif
mb_pulse2_cmd:
    ldy music_y+4               ; 3
    lda (music_ptrs+4),y        ; 5 the command
    bmi mb_pulse2_special       ; 2/3
    iny                         ; 2
    lsr                         ; 2 bit 0: $4004
    sta music_hdr               ; 3
    bcc mb_pulse2_1             ; 2/3
    lda (music_ptrs+4),y        ; 5
    iny                         ; 2
    sta $4004                   ; 4 $4004 duty, halt, constant volume, volume
    sta apu_shadow+$04          ; 4 the UI's copy
mb_pulse2_1:
    lsr music_hdr               ; 5 bit 1: $4005
    bcc mb_pulse2_2             ; 2/3
    lda (music_ptrs+4),y        ; 5
    iny                         ; 2
    sta $4005                   ; 4 $4005 sweep
mb_pulse2_2:
    lsr music_hdr               ; 5 bit 2: $4006
    bcc mb_pulse2_3             ; 2/3
    lda (music_ptrs+4),y        ; 5
    iny                         ; 2
    sta $4006                   ; 4 $4006 timer low
mb_pulse2_3:
    lsr music_hdr               ; 5 bit 3: $4007
    bcc mb_pulse2_e             ; 2/3
    lda (music_ptrs+4),y        ; 5
    iny                         ; 2
    sta $4007                   ; 4 $4007 length, timer high
mb_pulse2_e:
    lda music_hdr               ; 3 E: empty ticks after this one
    sta music_wait+4            ; 3
mb_pulse2_ends:                  ; the frame has ended (a write or volume command)
    lda music_refs+4            ; 3
    bne mb_pulse2_ref           ; 2/3 inside a back-reference
mb_pulse2_keep:
    sty music_y+4               ; 3
    cpy #$C0                    ; 2 keep y small: fold it into the address now and then
    bcs mb_pulse2_fold          ; 2
    jmp (music_link+4)          ; 5 the next block
mb_pulse2_ref:
    dec music_refs+4            ; 5 count the command
    bne mb_pulse2_keep          ; 2/3
    ldx #4                      ; 2 the reference is done: go on after it
    jsr mu_ref_return           ; 6
    jmp (music_link+4)          ; 5
mb_pulse2_fold:
    ldx #4                      ; 2
    jsr mu_fold                 ; 6
    jmp (music_link+4)          ; 5
mb_pulse2_special:
    cmp #$E0                    ; 2
    bcc mb_pulse2_shared        ; 2/3
    cmp #$F0                    ; 2
    bcs mb_pulse2_shared        ; 2/3
    eor apu_shadow+$04          ; 4 $E0-$EF: volume (cmd & $0F); $4004's high bits kept
    and #$0F                    ; 2
    eor apu_shadow+$04          ; 4
    sta $4004                   ; 4
    sta apu_shadow+$04          ; 4
    iny                         ; 2
    jmp mb_pulse2_ends          ; 3 music_wait is 0: no empty ticks follow
mb_pulse2_shared:
    ldx #4                      ; 2
    jsr mu_special              ; 6 carry set: the frame has ended
    bcc mb_pulse2_cmd           ; 2/3 a reference or a jump: its first command now
    jmp (music_link+4)          ; 5

; triangle: $4008-$400B, slot 3 (x = 6)
mb_triangle_idle:                 ; before the block, in reach of its first branch
    dec music_wait+6            ; 5
    jmp (music_link+6)          ; 5
mb_triangle:
    lda music_wait+6            ; 3
    bne mb_triangle_idle        ; 2/3
.if MAPPER_UXROM
    lda music_bank+6            ; 3 the bank of the stream's piece
    tay                         ; 2
    sta bank_table,y            ; 5 bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef NSF_BANKED
    lda music_bank+6
    jsr nsf_select_bank
.endif
mb_triangle_cmd:
    ldy music_y+6               ; 3
    lda (music_ptrs+6),y        ; 5 the command
    bmi mb_triangle_special     ; 2/3
    iny                         ; 2
    lsr                         ; 2 bit 0: $4008
    sta music_hdr               ; 3
    bcc mb_triangle_1           ; 2/3
    lda (music_ptrs+6),y        ; 5
    iny                         ; 2
    sta $4008                   ; 4 $4008 linear counter
    sta apu_shadow+$08          ; 4 the UI's copy
mb_triangle_1:
    lsr music_hdr               ; 5 bit 1: $4009
    bcc mb_triangle_2           ; 2/3
    lda (music_ptrs+6),y        ; 5
    iny                         ; 2
    sta $4009                   ; 4 $4009 (unused)
mb_triangle_2:
    lsr music_hdr               ; 5 bit 2: $400A
    bcc mb_triangle_3           ; 2/3
    lda (music_ptrs+6),y        ; 5
    iny                         ; 2
    sta $400A                   ; 4 $400A timer low
mb_triangle_3:
    lsr music_hdr               ; 5 bit 3: $400B
    bcc mb_triangle_e           ; 2/3
    lda (music_ptrs+6),y        ; 5
    iny                         ; 2
    sta $400B                   ; 4 $400B length, timer high
    sta apu_shadow+$0B          ; 4 the UI's copy
mb_triangle_e:
    lda music_hdr               ; 3 E: empty ticks after this one
    sta music_wait+6            ; 3
mb_triangle_ends:                  ; the frame has ended (a write or volume command)
    lda music_refs+6            ; 3
    bne mb_triangle_ref         ; 2/3 inside a back-reference
mb_triangle_keep:
    sty music_y+6               ; 3
    cpy #$C0                    ; 2 keep y small: fold it into the address now and then
    bcs mb_triangle_fold        ; 2
    jmp (music_link+6)          ; 5 the next block
mb_triangle_ref:
    dec music_refs+6            ; 5 count the command
    bne mb_triangle_keep        ; 2/3
    ldx #6                      ; 2 the reference is done: go on after it
    jsr mu_ref_return           ; 6
    jmp (music_link+6)          ; 5
mb_triangle_fold:
    ldx #6                      ; 2
    jsr mu_fold                 ; 6
    jmp (music_link+6)          ; 5
mb_triangle_special:
    cmp #$E0                    ; 2
    bcc mb_triangle_shared        ; 2/3
    cmp #$F0                    ; 2
    bcs mb_triangle_shared        ; 2/3
    eor apu_shadow+$08          ; 4 $E0-$EF: volume (cmd & $0F); $4008's high bits kept
    and #$0F                    ; 2
    eor apu_shadow+$08          ; 4
    sta $4008                   ; 4
    sta apu_shadow+$08          ; 4
    iny                         ; 2
    jmp mb_triangle_ends          ; 3 music_wait is 0: no empty ticks follow
mb_triangle_shared:
    ldx #6                      ; 2
    jsr mu_special              ; 6 carry set: the frame has ended
    bcc mb_triangle_cmd         ; 2/3 a reference or a jump: its first command now
    jmp (music_link+6)          ; 5

; noise: $400C-$400F, slot 4 (x = 8)
mb_noise_idle:                 ; before the block, in reach of its first branch
    dec music_wait+8            ; 5
    jmp (music_link+8)          ; 5
mb_noise:
    lda music_wait+8            ; 3
    bne mb_noise_idle           ; 2/3
.if MAPPER_UXROM
    lda music_bank+8            ; 3 the bank of the stream's piece
    tay                         ; 2
    sta bank_table,y            ; 5 bus-conflict safe: the ROM byte holds the same value
.endif
.ifdef NSF_BANKED
    lda music_bank+8
    jsr nsf_select_bank
.endif
mb_noise_cmd:
    ldy music_y+8               ; 3
    lda (music_ptrs+8),y        ; 5 the command
    bmi mb_noise_special        ; 2/3
    iny                         ; 2
    lsr                         ; 2 bit 0: $400C
    sta music_hdr               ; 3
    bcc mb_noise_1              ; 2/3
    lda (music_ptrs+8),y        ; 5
    iny                         ; 2
    sta $400C                   ; 4 $400C halt, constant volume, volume
    sta apu_shadow+$0C          ; 4 the UI's copy
mb_noise_1:
    lsr music_hdr               ; 5 bit 1: $400D
    bcc mb_noise_2              ; 2/3
    lda (music_ptrs+8),y        ; 5
    iny                         ; 2
    sta $400D                   ; 4 $400D (unused)
mb_noise_2:
    lsr music_hdr               ; 5 bit 2: $400E
    bcc mb_noise_3              ; 2/3
    lda (music_ptrs+8),y        ; 5
    iny                         ; 2
    sta $400E                   ; 4 $400E mode, period
mb_noise_3:
    lsr music_hdr               ; 5 bit 3: $400F
    bcc mb_noise_e              ; 2/3
    lda (music_ptrs+8),y        ; 5
    iny                         ; 2
    sta $400F                   ; 4 $400F length
mb_noise_e:
    lda music_hdr               ; 3 E: empty ticks after this one
    sta music_wait+8            ; 3
mb_noise_ends:                  ; the frame has ended (a write or volume command)
    lda music_refs+8            ; 3
    bne mb_noise_ref            ; 2/3 inside a back-reference
mb_noise_keep:
    sty music_y+8               ; 3
    cpy #$C0                    ; 2 keep y small: fold it into the address now and then
    bcs mb_noise_fold           ; 2
    jmp (music_link+8)          ; 5 the next block
mb_noise_ref:
    dec music_refs+8            ; 5 count the command
    bne mb_noise_keep           ; 2/3
    ldx #8                      ; 2 the reference is done: go on after it
    jsr mu_ref_return           ; 6
    jmp (music_link+8)          ; 5
mb_noise_fold:
    ldx #8                      ; 2
    jsr mu_fold                 ; 6
    jmp (music_link+8)          ; 5
mb_noise_special:
    cmp #$E0                    ; 2
    bcc mb_noise_shared        ; 2/3
    cmp #$F0                    ; 2
    bcs mb_noise_shared        ; 2/3
    eor apu_shadow+$0C          ; 4 $E0-$EF: volume (cmd & $0F); $400C's high bits kept
    and #$0F                    ; 2
    eor apu_shadow+$0C          ; 4
    sta $400C                   ; 4
    sta apu_shadow+$0C          ; 4
    iny                         ; 2
    jmp mb_noise_ends          ; 3 music_wait is 0: no empty ticks follow
mb_noise_shared:
    ldx #8                      ; 2
    jsr mu_special              ; 6 carry set: the frame has ended
    bcc mb_noise_cmd            ; 2/3 a reference or a jump: its first command now
    jmp (music_link+8)          ; 5
music_blocks_end:
