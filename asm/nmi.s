; NMI: the music first, so its writes happen at the same point of every frame.

nmi:
    pha
    txa
    pha
    tya
    pha
    jsr music_update
nmi_music_done:                 ; tests measure music_update from nmi's jsr to here
    jsr ui_nmi                  ; nametable updates, scroll, rendering on
    inc nmi_count
    pla
    tay
    pla
    tax
    pla
    rti

irq:
    rti
