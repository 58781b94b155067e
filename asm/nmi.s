; NMI: the music first, so its writes happen at the same point of every frame.
; Fixed cost around the two calls: 7 (interrupt) + 13 (save) + 5 (count) + 22 (restore, rti)
; = 47 cycles; music_update and ui_nmi are measured by the tests (README: performance).

nmi:
    pha                         ; 3 save A, X, Y: the main loop is interrupted anywhere
    txa                         ; 2
    pha                         ; 3
    tya                         ; 2
    pha                         ; 3
    jsr music_update            ; 6 + music_update
nmi_music_done:                 ; tests measure music_update from nmi's jsr to here
    jsr ui_nmi                  ; 6 + ui_nmi: nametable updates, scroll, rendering on
    inc nmi_count               ; 5 wakes the main loop
    pla                         ; 4
    tay                         ; 2
    pla                         ; 4
    tax                         ; 2
    pla                         ; 4
    rti                         ; 6

irq:
    rti                         ; 6 no IRQ source is enabled (reset turns off frame and DMC IRQs)
