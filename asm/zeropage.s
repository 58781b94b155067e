; Zero-page variables. Defined as constants, before any code uses them, so the assembler
; picks zero-page addressing for every access. Reset clears all RAM, so each starts at 0.
; An access costs 3 cycles (zp), 4 indexed (zp,x / zp,y), 5 for inc/dec/lsr, and a pointer
; read (zp),y 5 (+1 across a page); the notes in [] say what each costs music_update per
; frame, where it is on the hot path.

MUSIC_MAX_STREAMS = 6   ; streams of a song: at most one per register group

music_ptr       = $00   ; 2 bytes: scratch address: pairs streams and shared commands read
                        ; through it with (ptr),y [14 to copy a slot's address in]
music_stub      = $02   ; 6 bytes: code "sta $40rr / jmp back", so an APU register is written
                        ; with an absolute store (no indexed dummy read of $40xx) [10 per
                        ; pairs write: jmp in, sta, jmp back]
music_hdr       = $08   ; header byte of the command being played [a block: 3 to store, 5 per
                        ; mask bit shifted out, 3 to read E]
music_x         = $09   ; slot of the pairs stream being decoded (the write loop counts with x)
music_streams   = $0A   ; streams of the playing song; 0 = nothing plays (set last by start)
                        ; [3 every frame]
music_song      = $0B   ; index of the playing song
music_tmp       = $0C   ; scratch for music_start_song
bank_current    = $0D   ; UxROM bank the main code has selected (the NMI restores it)
                        ; [UxROM: 3 per tick in mu_done]
nmi_count       = $0E   ; frames since reset (wraps); the main loop waits on it [5 per NMI]
pad_now         = $0F   ; controller 1 buttons held (PAD_* bits)
pad_new         = $10   ; buttons pressed since the last read_pad
pad_last        = $11   ; buttons held at the previous read_pad
pad_last_read   = $12   ; first of two controller reads that must agree
music_first     = $13   ; 2 bytes: where a tick starts: the first voice block, else the pairs
                        ; streams, else mu_done [5 per tick: jmp (music_first)]
music_tick      = $15   ; 2 bytes: tick clock, accumulator - modulus (negative between ticks)
                        ; [12 every frame, 12 more on a tick]
music_tick_step = $17   ; 2 bytes: added every frame [6]
music_tick_mod  = $19   ; 2 bytes: subtracted on a tick (the streams run on tick frames) [6]
music_phrases   = $1B   ; 2 bytes: the song's phrase table (3 bytes per phrase: count, address)
                        ; [15 per phrase entered: three (ptr),y reads]
music_phrase_k  = $1D   ; scratch: the phrase being entered
music_pairs_i   = $1E   ; the pairs stream being played (index into music_pairs) [11 per
                        ; pairs stream: ldy, inc, and the loop test]
music_pairs_n   = $1F   ; pairs-mode streams of the song

; Per-slot state. A song's streams sit in slots 0-5; slot k's bytes are at +2k, and code shared
; by the slots takes x = 2k. The voice blocks of asm/music.s each own one slot (control 0,
; pulse 1 1, pulse 2 2, triangle 3, noise 4) and name its bytes directly: zero page, so
; 3 cycles each, and the stream address is read in place with (music_ptrs+2k),y.
music_ptrs      = $20   ; 2 bytes per slot: address of the stream's next command (without y)
                        ; [a block reads through it in place: 5 per byte]
music_wait      = $2C   ; 1 byte per slot (+2k): empty ticks to skip before the next command
                        ; [a block: 3 to test, 5 to count down or 3 to set]
music_y         = $2D   ; 1 byte per slot (+2k): offset of the next command from music_ptrs
                        ; [a block: 3 to load, 3 to store]
music_refs      = $38   ; 1 byte per slot (+2k): commands left in the back-reference; 0 = none
                        ; [a block: 3 to test, 5 to count a command]
music_bank      = $39   ; 1 byte per slot (+2k): UxROM bank holding the stream's current piece
                        ; [UxROM: 3 per playing block, then 7 to select the bank]
music_ret       = $44   ; 2 bytes per slot: where a back-reference returns to
music_link      = $50   ; 2 bytes per slot: where a voice block goes when it is done (the next
                        ; block of the song, the pairs streams or mu_done) [5: jmp (link)]
music_pairs     = $5C   ; 6 bytes: slots (2k) of the pairs-mode streams, in play order
music_refs2     = $62   ; 1 byte per slot (+2k): inside a back-reference entered from another
                        ; one, the outer reference's commands left (its own command counted);
                        ; 0 = not nested [4 per reference come back from]
music_ret2      = $6E   ; 2 bytes per slot: where the outer reference returns to, while nested
