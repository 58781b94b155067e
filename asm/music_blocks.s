; The voice blocks of the music player (asm/music.s): one per register group, in play order,
; each made by the voice_block macro in its own scope; mb_control ... mb_noise are their entries.
;
; Each plays the mask stream in its slot; x is free for the shared commands. A block whose
; stream waits goes on at once; one that plays a write command writes each register whose bit
; is set, and a copy in apu_shadow where the UI reads it (the meters and pause read $4000,
; $4004, $4008, $400B, $400C and $4015 only). Inside a back-reference it counts the command, and
; comes back from the reference after its last. The voice blocks (not the control's) also play
; a volume command ($E0-$EF), which writes only the low 4 bits of the group's first register:
; the most common command of NES-MDB songs (a volume envelope step) in one byte instead of two.
; The cycles of every path are the assembler's cycle listing's (src/rom/cycles_tests.rs checks
; the reference decoder's figures against it).

; write_bit slot, reg, shadow, next: after the lsr that moved a register's bit into carry, a
; set bit writes the stream's next byte to `reg` (and to its apu_shadow copy when `shadow`); a
; clear bit goes on at `next`.
.macro write_bit slot, reg, shadow, next
    bcc next
    lda (music_ptrs+slot),y
    iny
    sta reg
.if shadow
    sta apu_shadow+reg-$4000    ; the UI's copy
.endif
.endmacro

; voice_block slot, reg, shadow0, shadow1, shadow2, shadow3, volume
;   slot: x = 2k of the stream; reg: the group's first register ($4000, ...); shadowN: 1 when
;   the UI keeps a copy of register reg+N; volume: 1 when the block plays volume commands.
;; A block, entered at entry (from music_first or the block before through music_link), plays
;; its slot's stream for this tick and goes on through its music_link.
;; Reads: the slot's state and stream. Writes: the slot's state, music_hdr, the group's APU
;; registers, apu_shadow. Trashes: A, X, Y, flags.
.macro voice_block slot, reg, shadow0, shadow1, shadow2, shadow3, volume
idle:                           ; before the block, in reach of its first branch
    dec music_wait+slot
    jmp (music_link+slot)
entry:
    lda music_wait+slot
    bne idle
    same_page idle
    select_bank music_bank+slot ; the bank of the stream's piece
cmd:
    ldy music_y+slot
    lda (music_ptrs+slot),y     ; the command
    bmi special
    iny
    lsr                         ; bit 0: reg
    sta music_hdr
    write_bit slot, reg, shadow0, bit1
bit1:
    lsr music_hdr               ; bit 1: reg+1
    write_bit slot, reg+1, shadow1, bit2
bit2:
    lsr music_hdr               ; bit 2: reg+2
    write_bit slot, reg+2, shadow2, bit3
bit3:
    lsr music_hdr               ; bit 3: reg+3
    write_bit slot, reg+3, shadow3, bits_done
bits_done:
    lda music_hdr               ; E: empty ticks after this one
    sta music_wait+slot
ends:                           ; the frame has ended (a write or volume command)
    lda music_refs+slot
    bne in_ref                  ; inside a back-reference
    same_page in_ref
keep:
    sty music_y+slot
    cpy #$C0                    ; keep y small: fold it into the address now and then
    bcs fold
    same_page fold
    jmp (music_link+slot)       ; the next block
in_ref:
    dec music_refs+slot         ; count the command
    bne keep
    same_page keep
    ldx #slot                   ; the reference is done: go on after it
    jsr mu_ref_return
    jmp (music_link+slot)
fold:
    ldx #slot
    jsr mu_fold
    jmp (music_link+slot)
special:
.if volume
    cmp #$E0
    bcc shared
    cmp #$F0
    bcs shared
    eor apu_shadow+reg-$4000    ; $E0-$EF: volume (cmd & $0F); reg's high bits kept
    and #$0F
    eor apu_shadow+reg-$4000
    sta reg
    sta apu_shadow+reg-$4000
    iny
    jmp ends                    ; music_wait is 0: no empty ticks follow
.endif
shared:
    ldx #slot
    jsr mu_special              ; carry set: the frame has ended
    bcc cmd                     ; a reference or a jump: its first command now
    jmp (music_link+slot)
.endmacro

music_blocks:

.scope mb_control               ; $4014-$4017: OAM DMA and $4016 (never written by the
    voice_block 0, $4014, 0, 1, 0, 0, 0     ; compiler), channel enables, frame counter
.endscope
mb_control = mb_control::entry

.scope mb_pulse1                ; $4000-$4003: duty and volume, sweep, timer low, length
    voice_block 2, $4000, 1, 0, 0, 0, 1
.endscope
mb_pulse1 = mb_pulse1::entry

.scope mb_pulse2                ; $4004-$4007
    voice_block 4, $4004, 1, 0, 0, 0, 1
.endscope
mb_pulse2 = mb_pulse2::entry

.scope mb_triangle              ; $4008-$400B: linear counter, (unused), timer low, length
    voice_block 6, $4008, 1, 0, 0, 1, 1
.endscope
mb_triangle = mb_triangle::entry

.scope mb_noise                 ; $400C-$400F: volume, (unused), mode and period, length
    voice_block 8, $400C, 1, 0, 0, 0, 1
.endscope
mb_noise = mb_noise::entry
music_blocks_end:
