; UxROM test program: data in switchable banks referenced from the fixed bank.
.segment "ZEROPAGE"
ptr:    .res 2
bank:   .res 1

.segment "BANK0"
song0:  .byte 1, 2, 3
        .word song0, song1
.segment "BANK1"
        .res 7
song1:  .byte "bank one"
.segment "BANK1B"
late1:  .byte $EE
        .word late1
.segment "CODE"
reset:
        lda #<song1
        sta ptr
        lda #>song1
        sta ptr+1
        ldy #0
        lda (ptr),y
        lda #1
        sta bank
        tax
        sta bank_table,x        ; UxROM bus-conflict-free bank switch
        jmp reset
nmi:
irq:
        rti
.segment "RODATA"
bank_table: .byte 0, 1, 2, 3
songs:  .addr song0, song1, late1
        .byte <song0, >song0, <late1, >late1
.segment "VECTORS"
        .addr nmi, reset, irq
