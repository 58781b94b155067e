; Main loop: once per frame, read the controller and change songs.
; Right plays the next song, Left the previous one (wrapping). The on-screen UI is called from
; here (never from the NMI), so its time does not move the music's writes.

main_loop:
    lda nmi_count
main_wait_frame:                ; sleep until the NMI has played a frame
    cmp nmi_count
    beq main_wait_frame
    jsr read_pad
    jsr ui_update               ; the on-screen player: Up/Down/Start, time, next updates
    lda pad_new
    and #PAD_RIGHT
    beq main_not_right
    ldx music_song
    inx
    cpx #MUSIC_SONG_COUNT
    bcc main_start
    ldx #0
    beq main_start
main_not_right:
    lda pad_new
    and #PAD_LEFT
    beq main_loop
    ldx music_song
    bne main_prev
    ldx #MUSIC_SONG_COUNT
main_prev:
    dex
main_start:
    txa
    jsr music_start_song
    jmp main_loop

; read_pad: pad_now = controller 1 buttons (A B Select Start Up Down Left Right, bit 7 first);
; pad_new = buttons pressed since the previous call. A DMC sample fetch during a read can clock
; the controller an extra time (nesdev wiki "Controller reading: DMC conflict"), so the pad is
; read until two reads in a row agree.
read_pad:
    jsr read_pad_once
read_pad_again:
    lda pad_now
    sta pad_last_read
    jsr read_pad_once
    lda pad_now
    cmp pad_last_read
    bne read_pad_again
    lda pad_last
    eor #$FF
    and pad_now
    sta pad_new
    lda pad_now
    sta pad_last
    rts

read_pad_once:                  ; pad_now = the 8 buttons, A first
    lda #1
    sta JOY1                    ; strobe: latch the buttons
    lda #0
    sta JOY1
    ldx #8
read_pad_bit:
    lda JOY1
    lsr                         ; bit 0 = button; the other bits are not driven, so ignored
    rol pad_now
    dex
    bne read_pad_bit
    rts
