; Zero-page variables. Defined as constants, before any code uses them, so the assembler
; picks zero-page addressing for every access. Reset clears all RAM, so each starts at 0.

MUSIC_MAX_STREAMS = 6   ; register groups: pulse 1, pulse 2, triangle, noise, DMC, control

music_ptr       = $00   ; 2 bytes: address of the stream being decoded (read with (ptr),y)
music_stub      = $02   ; 6 bytes: code "sta $40rr / jmp back", so an APU register is written
                        ; with an absolute store (no indexed dummy read of $40xx)
music_hdr       = $08   ; header byte of the write group being played
music_x         = $09   ; index of the stream being decoded
music_streams   = $0A   ; streams of the playing song; 0 = nothing plays (set last by start)
music_song      = $0B   ; index of the playing song
music_tmp       = $0C   ; scratch for music_start_song and bank changes
bank_current    = $0D   ; UxROM bank the main code has selected (the NMI restores it)
nmi_count       = $0E   ; frames since reset (wraps); the main loop waits on it
pad_now         = $0F   ; controller 1 buttons held (PAD_* bits)
pad_new         = $10   ; buttons pressed since the last read_pad
pad_last        = $11   ; buttons held at the previous read_pad
pad_last_read   = $12   ; first of two controller reads that must agree
music_vec       = $13   ; 2 bytes: write-command handler of the stream being decoded
music_tick      = $15   ; 2 bytes: tick clock, accumulator - modulus (negative between ticks)
music_tick_step = $17   ; 2 bytes: added every frame
music_tick_mod  = $19   ; 2 bytes: subtracted on a tick (the streams run on tick frames)
music_phrases   = $1B   ; 2 bytes: the song's phrase table (3 bytes per phrase: count, address)
music_phrase_k  = $1D   ; scratch: the phrase being entered

; Per-stream state, MUSIC_MAX_STREAMS bytes each, indexed by the stream number.
music_wait      = $20   ; empty frames to skip before the next command
music_refs      = $26   ; commands left in the back-reference being played; 0 = none
music_lo        = $2C   ; address of the stream's next command, low byte (without music_y)
music_hi        = $32   ; ... high byte
music_y         = $38   ; offset from music_lo/hi of the next command
music_ret_lo    = $3E   ; where a back-reference returns to, low byte
music_ret_hi    = $44   ; ... high byte
music_bank      = $4A   ; UxROM bank holding the stream's current piece
music_vec_lo    = $50   ; the stream's write-command handler (mask group or pairs), low byte
music_vec_hi    = $56   ; ... high byte
