; The on-screen player's palette and text (asm/ui.s): the status texts of ui_put_status and
; the static screen ui_init draws.

; Black background, white text (colour 1), green meters (colour 2).
ui_palette:
    .byte $0F, $30, $2A, $16

; UI_STATUS_LEN tiles each; tile 0 is blank.
ui_status_text:
ui_status_paused:
    .byte "PAUSED"
ui_status_end:
    .byte "END", 0, 0, 0
ui_status_blank:
    .byte 0, 0, 0, 0, 0, 0

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
    .byte "START: PAUSE OR REPLAY", 0
ui_end:                         ; tests measure the UI's size from ui_init to here
