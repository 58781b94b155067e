//! `--track` and `--seconds`: which song of an NSF to read, and for how long. Shared by every
//! command that reads a score.

use clap::Args;
use nesmm::formats::ImportOptions;

#[derive(Args, Debug, Clone, Default)]
pub struct ImportArgs {
    /// NSF/NSFe input: the track to play, from 1 [default: the file's starting track].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=255))]
    pub track: Option<u16>,
    /// NSF/NSFe input: play at most this many seconds [default: until the track ends or
    /// loops, at most 300].
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
}

impl ImportArgs {
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            track: self.track,
            seconds: self.seconds,
        }
    }
}
