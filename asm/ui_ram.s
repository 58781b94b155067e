; RAM of the on-screen player and the APU register shadow. The music player keeps its state in
; $00-$63; these live in page $06 (reset clears all RAM, so each starts at 0) and at the top of
; zero page. Constants, not .res, so every access gets the right addressing mode: 4 cycles
; absolute, 3 in zero page. Apart from apu_shadow (written by the player in the NMI) and
; ui_buf/ui_ready (read by ui_nmi in vblank), only ui_update touches them, in the main loop,
; where its cost (tests/rom_ui.rs measures it) cannot move the music's writes.

apu_shadow      = $0600 ; 24 bytes: the last value the player wrote to $4000+n (the voice
                        ; blocks keep $4000 $4004 $4008 $400B $400C $4015 only, 4 cycles
                        ; each; the pairs loop all, 14 per write)
apu_shadow_y    = $FD   ; scratch: the player's y while it updates the shadow [6 per pairs
                        ; write]
ui_ptr          = $FE   ; 2 bytes: text being copied, read with (ui_ptr),y

ui_ready        = $0618 ; 1: ui_buf holds updates for the NMI to copy to the nametable
ui_song         = $0619 ; song whose title is shown; $FF: redraw
ui_paused       = $061A ; 1 while Start has paused the music
ui_saved_streams = $061B ; music_streams while paused
ui_frames       = $061C ; frames into the current second; once ended, frames since the end
ui_time         = $061D ; 4 digits: minutes tens, ones, seconds tens, ones (0-9 each)
ui_levels       = $0621 ; 4 bytes: meter levels shown (pulse 1, pulse 2, triangle, noise)
ui_level        = $0625 ; level being drawn
ui_time_dirty   = $0626 ; 1: the time must be redrawn
ui_status_dirty = $0627 ; 1: the status text (PAUSED, END) must be redrawn
ui_buf_end      = $0628 ; bytes used in ui_buf
ui_x            = $0629 ; scratch: saved x
ui_y            = $062A ; scratch: saved y
ui_meters_left  = $062B ; meters the buffer being filled may still take
ui_meter_start  = $062C ; voice whose meter is looked at first (turns round)
ui_meter_count  = $062D ; voices left to look at
ui_hundreds     = $062E ; hundreds tile of a three-digit track number (albums of 100+ songs)
ui_ended        = $062F ; 1 once every stream of the song has ended: END, the time stops
ui_buf          = $0640 ; UI_BUF_SIZE bytes: (address high, low, count, tiles...) ... 0
UI_BUF_SIZE     = 96
