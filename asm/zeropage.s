; Zero-page variables. Defined as constants, before any code uses them, so the assembler
; picks zero-page addressing for every access. Reset clears all RAM, so each starts at 0.
; The asserts at the end keep the player's state in zero page, where the voice blocks name it
; with the short forms and read through (music_ptrs+2k),y; the assembler's cycle listing says
; what each access costs.

MUSIC_MAX_STREAMS = 6   ; streams of a song: at most one per register group

music_ptr       = $00   ; 2 bytes: scratch address: pairs streams and shared commands read
                        ; through it with (ptr),y
music_stub      = $02   ; 6 bytes: code "sta $40rr / jmp back", so an APU register is written
                        ; with an absolute store (no indexed dummy read of $40xx)
music_hdr       = $08   ; header byte of the command being played
music_x         = $09   ; slot of the pairs stream being decoded (the write loop counts with x)
music_streams   = $0A   ; streams of the playing song; 0 = nothing plays (set last by start)
music_song      = $0B   ; index of the playing song
music_tmp       = $0C   ; scratch for music_start_song
bank_current    = $0D   ; UxROM bank the main code has selected (the NMI restores it)
nmi_count       = $0E   ; frames since reset (wraps); the main loop waits on it
pad_now         = $0F   ; controller 1 buttons held (PAD_* bits)
pad_new         = $10   ; buttons pressed since the last read_pad
pad_last        = $11   ; buttons held at the previous read_pad
pad_last_read   = $12   ; first of two controller reads that must agree
music_first     = $13   ; 2 bytes: where a tick starts: the first voice block, else the pairs
                        ; streams, else mu_done
music_tick      = $15   ; 2 bytes: tick clock, accumulator - modulus (negative between ticks)
music_tick_step = $17   ; 2 bytes: added every frame
music_tick_mod  = $19   ; 2 bytes: subtracted on a tick (the streams run on tick frames)
music_phrases   = $1B   ; 2 bytes: the song's phrase table (3 bytes per phrase: count, address)
music_phrase_k  = $1D   ; scratch: the phrase being entered
music_pairs_i   = $1E   ; the pairs stream being played (index into music_pairs)
music_pairs_n   = $1F   ; pairs-mode streams of the song

; Per-slot state. A song's streams sit in slots 0-5; slot k's bytes are at +2k, and code shared
; by the slots takes x = 2k. The voice blocks of asm/music.s each own one slot (control 0,
; pulse 1 1, pulse 2 2, triangle 3, noise 4) and name its bytes directly: zero page, so
; 3 cycles each, and the stream address is read in place with (music_ptrs+2k),y.
music_ptrs      = $20   ; 2 bytes per slot: address of the stream's next command (without y)
music_wait      = $2C   ; 1 byte per slot (+2k): empty ticks to skip before the next command
music_y         = $2D   ; 1 byte per slot (+2k): offset of the next command from music_ptrs
music_refs      = $38   ; 1 byte per slot (+2k): commands left in the back-reference; 0 = none
music_bank      = $39   ; 1 byte per slot (+2k): UxROM bank holding the stream's current piece
music_ret       = $44   ; 2 bytes per slot: where a back-reference returns to
music_link      = $50   ; 2 bytes per slot: where a voice block goes when it is done (the next
                        ; block of the song, the pairs streams or mu_done)
music_pairs     = $5C   ; 6 bytes: slots (2k) of the pairs-mode streams, in play order
music_refs2     = $62   ; 1 byte per slot (+2k): inside a back-reference entered from another
                        ; one, the outer reference's commands left (its own command counted);
                        ; 0 = not nested
music_ret2      = $6E   ; 2 bytes per slot: where the outer reference returns to, while nested

; The slot tables do not overlap, and all of them are in zero page.
.assert music_ptrs + 2*MUSIC_MAX_STREAMS <= music_wait, error, "music_ptrs overlaps music_wait"
.assert music_wait + 2*MUSIC_MAX_STREAMS <= music_refs, error, "music_wait/music_y overlap music_refs"
.assert music_y = music_wait + 1, error, "music_y interleaves with music_wait"
.assert music_bank = music_refs + 1, error, "music_bank interleaves with music_refs"
.assert music_refs + 2*MUSIC_MAX_STREAMS <= music_ret, error, "music_refs/music_bank overlap music_ret"
.assert music_ret + 2*MUSIC_MAX_STREAMS <= music_link, error, "music_ret overlaps music_link"
.assert music_link + 2*MUSIC_MAX_STREAMS <= music_pairs, error, "music_link overlaps music_pairs"
.assert music_pairs + MUSIC_MAX_STREAMS <= music_refs2, error, "music_pairs overlaps music_refs2"
.assert music_refs2 + 2*MUSIC_MAX_STREAMS <= music_ret2, error, "music_refs2 overlaps music_ret2"
.assert music_ret2 + 2*MUSIC_MAX_STREAMS <= $100, error, "the player's state must stay in zero page"
