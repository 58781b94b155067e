; Power-on and reset, as the nesdev wiki page "Init code" does it, then the first song.

reset:
    sei                         ; no IRQs
    cld                         ; the 2A03 has no decimal mode; clear it for other 6502s
    ldx #$40
    stx APU_FRAME               ; 4-step frame counter, frame IRQ off
    ldx #$FF
    txs                         ; stack at $01FF
    inx                         ; x = 0
    stx PPU_CTRL                ; NMI off
    stx PPU_MASK                ; rendering off
    stx APU_DMC_FREQ            ; DMC IRQ off
    bit PPU_STATUS              ; clear the vblank flag, whatever power-on left in it
reset_vblank1:                  ; first vblank: the PPU is warming up
    bit PPU_STATUS
    bpl reset_vblank1
    txa                         ; a = 0, x = 0
reset_clear_ram:                ; clear $0000-$07FF
    sta $0000,x
    sta $0100,x
    sta $0200,x
    sta $0300,x
    sta $0400,x
    sta $0500,x
    sta $0600,x
    sta $0700,x
    inx
    bne reset_clear_ram
reset_vblank2:                  ; second vblank: the PPU is ready
    bit PPU_STATUS
    bpl reset_vblank2
    jsr music_init
    lda #0
    jsr music_start_song        ; performs the first song's init writes
    jsr ui_init                 ; the screen, while rendering is off
    lda #$80
    sta PPU_CTRL                ; NMI on: the music plays from the next vblank
    jmp main_loop
