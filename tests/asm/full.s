; Comprehensive ca65-subset test program: every directive, expression operator, scoping rule
; and zero-page/absolute selection case the assembler supports. Built by tests/assembler.rs
; with our assembler and with ca65 + ld65; the images must be identical.

ZP_CONST = $10            ; known constant < $100: zero page
ABS_CONST = $0300         ; known constant >= $100: absolute
ALIAS := ZP_CONST + 1
EXPR1 = (3 + 4) * 2 - 1   ; 13
EXPR2 = 1 + 2 & 3         ; & binds like *: 1 + (2 & 3) = 3
EXPR3 = 8 | 1 ^ 3         ; 8 | (1 ^ 3) = 10
EXPR4 = 1 << 4 + 1        ; (1 << 4) + 1 = 17
EXPR5 = $F0 >> 4 - 1      ; ($F0 >> 4) - 1 = 14
EXPR6 = -5 + 10           ; 5
EXPR7 = ~$FF & $FFFF      ; $FF00
EXPR8 = %1010 + 'A'       ; 75
EXPR9 = 100 / 7           ; 14
EXPR10 = 3 = 3            ; comparison: 1
EXPR11 = (5 > 2) && (1 <> 1) ; 0
EXPR12 = !0 || 0          ; 1
EXPR13 = 17 .mod 5        ; 2

.segment "ZEROPAGE"
zpvar:      .res 1
zpword:     .res 2
zparray:    .res 4

.segment "BSS"
absvar:     .res 16
absbuf:     .res $40

.segment "CODE"
reset:
    sei
    cld
    ldx #$FF
    txs
    ; zero page vs absolute selection
    lda ZP_CONST            ; zp (constant < $100)
    lda ABS_CONST           ; abs
    lda $0010               ; zp: leading zeros do not matter
    lda ALIAS               ; zp
    lda zpvar               ; zp label
    lda zpword+1            ; zp label + constant
    lda zparray+3            ; zp
    lda absvar              ; abs (BSS label)
    lda forward_const       ; forward reference: absolute even though < $100
    lda forward_zp          ; forward reference to a zp label: absolute
    lda a:ZP_CONST          ; forced absolute
    lda z:forward_const     ; forced zero page
    lda <reset              ; < gives a byte: zp
    lda >reset, x           ; zp,x
    lda zpvar, y            ; lda has no zp,y: abs,y
    ldx zpvar, y            ; ldx has zp,y
    stx forward_zp, y       ; stx only has zp,y: zero page even for a forward reference
    lda ZP_CONST | $100     ; constant $110: abs
    lda zpvar & $FF00       ; not constant, $FF00 is abs: abs
    lda zpvar * 2           ; zp
    lda ZP_CONST + reset - reset ; abs (label size kept through the sum)
    asl
    asl a
    lsr A
    rol
    ror a
    ; immediate forms with lo/hi/bank bytes
    lda #<table
    ldx #>table
    ldy #.lobyte(table + 1)
    lda #.hibyte(table + $100)
    lda #<table+1           ; (<table)+1
    lda #^table
    lda #EXPR1
    lda #'z'
    lda #ABS_CONST >> 8
    ; branches, forward and backward, and *
@loop:
    dex
    bne @loop
    beq @done
    bmi *+2
    bpl *
@done:
    jmp (vector)
    jmp main
    jsr later_global
    jmp ::reset

main:
    lda #0
@wait:
    bit $2002
    bpl @wait
@back:                      ; a new cheap-local area after "main:"
    jmp @back

.proc sub
    nop
entry:
    lda local_const
    lda zpvar               ; outer symbol found from inside the proc
    lda later_global        ; forward, resolved to the global defined later
    jsr helper
@x: bne @x
    rts
helper:
    rts
local_const = $42
.endproc

.proc other
@x: rts                     ; new cheap-local area after .endproc/.proc
entry:
    jmp sub::helper
    jsr sub::entry
.endproc

.scope inner
value = 7
.endscope

.segment "ZP2": zeropage
zp2var: .res 1
.code
    lda zp2var              ; zp: the segment was declared zeropage
    sta zp2var,x
.zeropage
zp3:    .res 1
.code
    ldy zp3
    .export reset, main
    .exportzp zpvar
    .p02
    .setcpu "6502"

.include "opcodes.inc"

.segment "RODATA"
table:
    .byte 1, 2, 3, $FF, %1111, 'Q', "Hello, NES", 0
    .byte <table, >table, <(table+300), >(table+300)
    .byte EXPR1, EXPR2, EXPR3, EXPR4, EXPR5, EXPR6, <EXPR7, >EXPR7, EXPR8, EXPR9
    .byte EXPR10, EXPR11, EXPR12, EXPR13, inner::value
    .byt 9
    .byte $00,$7f, 255 ,%0101 ; plain numbers take the fast path
    .BYTE 1,2
	.byte	$A,$b	;tabs
    .byte $ff, 1+1, $10
    .asciiz "zero terminated"
    .word table, reset, $1234, ABS_CONST + 1, *
    .addr main, sub::entry, later_global
    .word table2 - table, sub::local_const
    .lobytes table, reset, $1234, ABS_CONST
    .hibytes table, reset, $1234, ABS_CONST
    .bankbytes $123456, table
    .dbyt $1234, table, reset
    .res 3
    .res 5, $AA
    .align 8
    .byte $BB
    .align 16, $CC
    .byte $DD
    .incbin "blob.bin"
    .incbin "blob.bin", 2
    .incbin "blob.bin", 4, 3
.if EXPR1 = 13
    .byte "if-taken"
.else
    .byte "if-not-taken"
.endif
.if 0
    .byte "never"
    .if 1
    .byte "nested never"
    .endif
.elseif EXPR2 = 3
    .byte "elseif"
.else
    .byte "else"
.endif
.ifdef ZP_CONST
    .byte 1
.endif
.ifndef NOT_DEFINED
    .byte 2
.endif
table2:
    .byte * - table2

later_global = $1234
forward_const = $20

.segment "ZEROPAGE"
forward_zp: .res 1

.segment "VECTORS"
vector:
    .word main, reset, reset
