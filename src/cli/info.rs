//! `nesmm info`: what a music file holds.

use super::import_args::ImportArgs;
use anyhow::Context;
use clap::Args;
use nesmm::formats::{self, FileFormat};
use nesmm::{ApuStream, Score, Voice};
use std::path::PathBuf;

/// Show a file's format, length and per-voice ranges.
#[derive(Args)]
#[command(
    long_about = "Show what a music file holds: its format, frame count, frame rate and \
                  duration, and per voice the range of sounding notes, the share of frames \
                  that sound, and (for expressive scores) the velocity and timbre ranges. \
                  The format is chosen by the file name: .seprsco.pkl, .exprsco.pkl, .pkl, \
                  .mid/.midi/.rmi, .vgm/.vgz, .txt (an APU stream dump), or .nsf/.nsfe \
                  (the tracks are listed, then --track is described).",
    after_help = "Example: nesmm info 002_1943_TheBattleofMidway_00_01Title.seprsco.pkl"
)]
pub struct InfoArgs {
    /// The file to describe.
    pub file: PathBuf,
    #[command(flatten)]
    pub import: ImportArgs,
}

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let format = FileFormat::of_input(&args.file).map_err(|e| with_hint(e, FileFormat::Seprsco))?;
    if format == FileFormat::Nsf {
        let bytes = nesmm::io::read_file(&args.file)?;
        let file = formats::nsf_import::read_nsf_file(&bytes, &args.file)
            .map_err(|e| with_hint(e, format))?;
        let h = &file.nsf.header;
        println!(
            "{}: {}, {}, {} tracks (* starts)\ntitle     {}\nartist    {}\ncopyright {}",
            args.file.display(),
            file.kind,
            h.region.name().to_uppercase(),
            h.song_count,
            h.title,
            h.artist,
            h.copyright
        );
        for line in file.track_lines() {
            println!("{line}");
        }
        println!(
            "track {} as a score:",
            args.import.track.unwrap_or(h.first_song.into())
        );
    }
    // A FamiTracker text export is a score; any other .txt a stream dump.
    if format == FileFormat::StreamText && !formats::famitracker::is_famitracker_file(&args.file) {
        let text = std::fs::read_to_string(&args.file)
            .with_context(|| format!("{}: cannot read it as text", args.file.display()))?;
        let stream = ApuStream::from_text(&text, &args.file.to_string_lossy())?;
        print!("{}", describe_stream(&stream));
        return Ok(());
    }
    let score = load_song_with(&args.file, &args.import)?;
    let format_name = match format {
        FileFormat::Seprsco if score.expressive => FileFormat::Exprsco.description(),
        FileFormat::StreamText => "FamiTracker text export",
        _ => format.description(),
    };
    print!("{}", describe_score(&score, format_name));
    Ok(())
}

/// A score file of any format nesmm reads; the error says what to do about it.
pub fn load_song(path: &std::path::Path) -> anyhow::Result<Score> {
    load_song_with(path, &ImportArgs::default())
}

/// [`load_song`] with `--track` / `--seconds`; the reader's notes go to stderr.
pub fn load_song_with(path: &std::path::Path, import: &ImportArgs) -> anyhow::Result<Score> {
    load_song_full(path, import).map(|l| l.score)
}

/// [`load_song_with`], keeping what the reader says about the file.
pub fn load_song_full(
    path: &std::path::Path,
    import: &ImportArgs,
) -> anyhow::Result<formats::Loaded> {
    let format = FileFormat::of_input(path).map_err(|e| match e {
        nesmm::Error::Io { .. } => with_hint(e, FileFormat::Seprsco),
        e => anyhow::anyhow!(
            "{e}\nhint: give an NES-MDB pickle, a MIDI, VGM/VGZ or NSF file under its usual \
             extension"
        ),
    })?;
    let loaded =
        formats::load_score_with(path, &import.options()).map_err(|e| with_hint(e, format))?;
    // What the reader decided matters for files it had to interpret (a MIDI's parts, an NSF's
    // end); NES-MDB's own forms read exactly, so only their warnings are shown.
    for note in &loaded.notes {
        if !loaded.nesmdb_form || note.starts_with("warning") {
            eprintln!("{}: {note}", path.display());
        }
    }
    Ok(loaded)
}

/// The library error plus what the user can do about it.
pub fn with_hint(e: nesmm::Error, format: FileFormat) -> anyhow::Error {
    let hint = match &e {
        nesmm::Error::Io { .. } => "check that the path exists and is readable".to_string(),
        nesmm::Error::Format { .. } => format!(
            "the file looks damaged or is not a {}: check that it is complete (re-download or \
             re-export it)",
            format.description()
        ),
        nesmm::Error::Invalid { .. } => {
            "the file holds a value its voice cannot play; fix it in the source".to_string()
        }
        nesmm::Error::Unsupported(_) => format!(
            "nothing is wrong with the file, nesmm just does not read this kind; it reads {}",
            formats::SCORE_EXTENSIONS
        ),
        nesmm::Error::Model { .. } => "a model computation failed (shape, device or memory): check the model folder and --device".into(),
    };
    anyhow::anyhow!("{e}\nhint: {hint}")
}

fn describe_stream(stream: &ApuStream) -> String {
    format!(
        "name      {}\nformat    {}\nregion    {}\nframes    {}\nduration  {:.2} s\nwrites    {} \
         (+{} init)\nloop      {}\n",
        stream.name,
        FileFormat::StreamText.description(),
        stream.region.name(),
        stream.len(),
        stream.duration_secs(),
        stream.write_count(),
        stream.init.len(),
        stream
            .loop_frame
            .map_or("none".to_string(), |l| format!("frame {l}")),
    )
}

/// "lo..hi" of the values, or "-" when there are none.
fn range(values: impl Iterator<Item = u8>) -> String {
    let (lo, hi) = values.fold((u8::MAX, u8::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        "-".to_string()
    } else {
        format!("{lo}..{hi}")
    }
}

fn describe_score(score: &Score, format_name: &str) -> String {
    let mut out = format!(
        "name      {}\nformat    {}\nframes    {}\nrate      {} Hz\nduration  {:.2} s\n",
        score.name,
        format_name,
        score.len(),
        score.rate,
        score.duration_secs()
    );
    if let Some(n) = score.source_samples {
        out += &format!("source    {n} samples at 44.1 kHz\n");
    }
    if let Some(l) = score.loop_frame {
        out += &format!("loop      frame {l}\n");
    }
    out += if score.expressive {
        "voice  notes      sounding  velocity  timbre\n"
    } else {
        "voice  notes      sounding\n"
    };
    for voice in Voice::ALL {
        let sounding: Vec<_> = score
            .frames
            .iter()
            .map(|f| f[voice.index()])
            .filter(|c| !c.is_rest())
            .collect();
        let share = 100.0 * sounding.len() as f64 / score.len().max(1) as f64;
        out += &format!(
            "{:<6} {:<10} {:>7.1}%",
            voice.label(),
            range(sounding.iter().map(|c| c.note)),
            share
        );
        if score.expressive {
            out += &format!(
                "  {:<8}  {}",
                range(sounding.iter().map(|c| c.velocity)),
                range(sounding.iter().map(|c| c.timbre))
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_ranges_and_shares() {
        let mut s = Score::from_notes("t", 24.0, &[[60, 0, 40, 3], [72, 0, 0, 16]]);
        let text = describe_score(&s, FileFormat::Seprsco.description());
        assert!(text.contains("P1     60..72       100.0%"), "{text}");
        assert!(text.contains("P2     -              0.0%"), "{text}");
        assert!(text.contains("TR     40..40        50.0%"), "{text}");
        s.expressive = true;
        s.frames[1][3].velocity = 4;
        s.frames[1][3].timbre = 1;
        let text = describe_score(&s, FileFormat::Exprsco.description());
        assert!(
            text.contains("NO     3..16        100.0%  4..15     0..1"),
            "{text}"
        );
    }
}
