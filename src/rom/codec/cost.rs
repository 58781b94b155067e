//! The cycle costs of the player's paths (asm/music.s, NROM; the `UXROM_*` figures add the bank
//! switches), as music_update spends them, without the cycle a taken branch or a `(ptr),y`
//! read adds when it crosses a page. The reference decoder ([`super::decode`]) sums them frame
//! by frame and the encoder's estimates start from them; `rom/cycles_tests.rs` checks each
//! against the assembler's cycle listing of the linked player.

/// music_update on a frame that is not a tick, from its first instruction to its rts.
pub const NO_TICK: u32 = 33;
/// music_update with no streams playing (a song without any, or paused).
pub const NO_STREAMS: u32 = 12;
/// A tick: the clock through `jmp (music_first)`, and mu_done's rts.
pub const TICK: u32 = 49 + 6;
/// mu_done's bank restore (UxROM).
pub const UXROM_DONE: u32 = 10;
/// Selecting a stream's bank before it plays (UxROM): a block's, the pairs loop's.
pub const UXROM_BLOCK: u32 = 10;
pub const UXROM_PAIRS: u32 = 11;
/// A voice block whose stream waits.
pub const BLOCK_IDLE: u32 = 16;
/// A block that plays: the wait check.
pub const BLOCK_START: u32 = 5;
/// Reading a command: ldy, lda (ptr),y.
pub const READ: u32 = 8;
/// A mask command: bmi, iny, lsr, sta; the four bits skipped; the end up to the refs test.
pub const MASK: u32 = 2 + 7 + 3 + 3 * 8 + 9;
/// Per register written, and per write the UI keeps a copy of.
pub const MASK_WRITE: u32 = 10;
pub const SHADOW: u32 = 4;
/// The frame ends with no reference and y below $C0: bne, sty, cpy, bcs, jmp (link).
pub const BLOCK_END_FAST: u32 = 14;
/// Inside a reference the block counts the command itself (bne taken, dec, bne taken,
/// then as above), or comes back from the reference (bne taken, dec, bne, ldx, jsr
/// mu_ref_return, jmp (link)).
pub const BLOCK_END_COUNT: u32 = 3 + 5 + 3 + 14 - 2;
pub const BLOCK_END_RETURN: u32 = 3 + 5 + 2 + 2 + 6 + 34 + 5;
/// Coming back from a reference entered inside another (mu_ref_outer): more, to the
/// outer reference, and more again when that was the outer one's last command.
pub const RETURN_TO_OUTER: u32 = 37;
pub const RETURN_FROM_BOTH: u32 = 66;
/// Entering a reference or phrase inside another (mu_nest).
pub const NEST: u32 = 24;
/// Folding y into the address at the end of a frame: bcs taken, ldx, jsr mu_fold (34 with
/// its rts), jmp (link), instead of bcs and jmp (link).
pub const BLOCK_END_FOLD: u32 = 3 + 2 + 6 + 34 + 5 - 2 - 5;
/// A special command from a block: bmi taken, ldx, jsr; then bcc taken to read again, or
/// bcc and jmp (link) when the frame ended.
pub const BLOCK_SPECIAL: u32 = 3 + 2 + 6;
/// What a voice block (not the control's) adds before mu_special to look for a volume
/// command: cmp, bcc taken ($80-$DF); cmp, bcc, cmp, bcs taken ($F0-$FF).
pub const VOLUME_TEST_LOW: u32 = 2 + 3;
pub const VOLUME_TEST_HIGH: u32 = 2 + 2 + 2 + 3;
/// A volume command from the block's bmi to its refs test: bmi taken, cmp, bcc, cmp, bcs,
/// eor, and, eor, sta, sta, iny, jmp, lda music_refs.
pub const VOLUME: u32 = 3 + 2 + 2 + 2 + 2 + 4 + 2 + 4 + 4 + 4 + 2 + 3 + 3;
pub const SPECIAL_GO_ON: u32 = 3;
pub const SPECIAL_ENDED: u32 = 2 + 5;
/// mu_frame_end: no reference (21), counting one (29), coming back from one (48); folding
/// y into the address adds 29.
pub const FRAME_END: u32 = 21;
pub const FRAME_END_COUNT: u32 = 29;
pub const FRAME_END_RETURN: u32 = 48;
pub const FOLD: u32 = 29;
/// mu_special, to its rts: a wait (before mu_frame_end), a phrase, a short reference, a
/// long one, a jump, the stream's end (each but the wait with mu_ref_or_jump's nesting
/// test, 6).
/// The references' and later commands' dispatch also passes the near reference's test
/// (cmp, bcc: 4), which a near reference takes (bcc taken).
pub const WAIT: u32 = 4 + 2 + 2 + 4 + 6 + 2 + 6;
pub const NEAR_REF: u32 = 29 + 6 + 3 + 64 + 14;
pub const PHRASE: u32 = 29 + 6 + 4 + 73 + 14;
pub const SHORT_REF: u32 = 29 + 6 + 4 + 12 + 42 + 14;
pub const LONG_REF: u32 = 29 + 6 + 4 + 7 + 3 + 14 + 42 + 14;
pub const JUMP: u32 = 29 + 6 + 4 + 7 + 6 + 31 + 3 + 14;
pub const UXROM_JUMP: u32 = 11;
pub const STOP: u32 = 29 + 6 + 4 + 7 + 7 + 20;
/// The pairs loop: its start (lda, sta) and its end (the loop test, jmp mu_done).
pub const PAIRS_LOOP: u32 = 5 + 12;
/// Per pairs stream: the loop's step, then waiting or playing.
pub const PAIRS_STEP: u32 = 21;
pub const PAIRS_IDLE: u32 = 11;
pub const PAIRS_PLAY: u32 = 3;
/// A pairs command: the address copy and y test; a fold first when y passed $C0.
pub const PAIRS_READ: u32 = 20 + 2 + 5;
pub const PAIRS_FOLD: u32 = 20 + 3 + 6 + 34 + 3;
/// A write command: bmi, the set-up, 46 per write (one less for the last), the end test;
/// then the frame ends (bcs, lsr x4, sta, jsr, jmp) or goes on (bcs taken, jsr, jmp).
pub const PAIRS_WRITES: u32 = 2 + 12 + 8;
pub const PAIRS_WRITE: u32 = 46;
pub const PAIRS_ENDS: u32 = 2 + 8 + 4 + 6 + 3;
pub const PAIRS_GOES_ON: u32 = 3 + 6 + 3;
/// A special command from the pairs loop: bmi taken, jsr; then bcc taken, or bcc, jmp.
pub const PAIRS_SPECIAL: u32 = 3 + 6;
pub const PAIRS_SPECIAL_GO_ON: u32 = 3;
pub const PAIRS_SPECIAL_ENDED: u32 = 2 + 3;

/// The encoder's per-frame cycle estimates (`rom/encode.rs` plans each frame's cycles with them
/// before the reference decoder counts exactly), made from the costs above. Where an estimate
/// is not the exact figure, `rom/cycles_tests.rs` pins both, so a change to either is seen.
pub mod estimate {
    use super as cost;

    /// Cycles the player spends entering a back-reference or phrase (mu_special, then the block
    /// reads the command it points at): a short reference's, exactly; a near one costs 151, a
    /// phrase 161, a long reference 158.
    pub const REF_ENTRY_CYCLES: u32 = 146;
    /// music_update's tick clock on a tick frame, and mu_done: an estimate (exactly
    /// [`cost::TICK`], 55).
    pub const TICK_CYCLES: u32 = 66;
    /// A voice block whose stream waits this tick.
    pub const IDLE_BLOCK_CYCLES: u32 = cost::BLOCK_IDLE;
    /// A pairs stream waiting this tick (the pairs loop's own start and end are in
    /// [`PAIRS_LOOP_CYCLES`]).
    pub const IDLE_PAIRS_CYCLES: u32 = cost::PAIRS_STEP + cost::PAIRS_IDLE;
    /// The pairs loop's start and end, once a song has pairs streams.
    pub const PAIRS_LOOP_CYCLES: u32 = cost::PAIRS_LOOP;
    /// What a wait command costs beyond a waiting stream: an estimate (exactly 67 in a voice
    /// block, 62 in the control block).
    pub const WAIT_COMMAND_CYCLES: u32 = 70;
    /// What reading the end of a stream ($FF) costs beyond a waiting stream: an estimate (exactly
    /// 97 in a voice block).
    pub const STOP_COMMAND_CYCLES: u32 = 80;
    /// A voice block playing a mask command: fixed part, per write, and per write the UI keeps a
    /// copy of (`$4000 $4004 $4008 $400B $400C $4015`).
    pub const MASK_STREAM_CYCLES: u32 =
        cost::BLOCK_START + cost::READ + cost::MASK + cost::BLOCK_END_FAST;
    pub const MASK_WRITE_CYCLES: u32 = cost::MASK_WRITE;
    pub const SHADOW_CYCLES: u32 = cost::SHADOW;
    /// A voice block playing a volume command: an estimate (exactly 64).
    pub const VOLUME_CYCLES: u32 = 56;
    /// A pairs stream playing a write command: fixed part (one write, the frame ends), and per
    /// write (through music_stub, with the shadow copy).
    pub const PAIRS_STREAM_CYCLES: u32 =
        cost::PAIRS_STEP + cost::PAIRS_PLAY + cost::PAIRS_READ + cost::PAIRS_WRITES - 1
            + cost::PAIRS_ENDS
            + cost::FRAME_END;
    pub const PAIRS_WRITE_CYCLES: u32 = cost::PAIRS_WRITE;
}
