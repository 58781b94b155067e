//! Output names checked before anything is written: a command that writes one kind of file
//! refuses a name that promises another, so `nesmm render song.mid -o song.mid` cannot
//! overwrite the song with audio, and a ROM never hides in a file called `.mid`.

use std::path::{Path, PathBuf};

/// Which command writes which kind of file, for the hint.
const WRITERS: &str = "scores (.mid, .seprsco.pkl, .exprsco.pkl, .vgm): `nesmm convert`; \
                       .wav: `nesmm render`; .nes: `nesmm build`; .nsf/.nsfe: `nesmm nsf`; \
                       .png: `nesmm plot`; .txt stream dumps: `nesmm compile --stream-out`";

/// Fails unless `path` ends in one of `extensions` (no dot, any case). `command` and `what`
/// name the command and what it writes, for the message.
pub fn expect_extension(
    path: &Path,
    command: &str,
    what: &str,
    extensions: &[&str],
) -> anyhow::Result<()> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if ext.as_deref().is_some_and(|e| extensions.contains(&e)) {
        return Ok(());
    }
    let want: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
    anyhow::bail!(
        "{}: `nesmm {command}` writes {what}, so the output's name must end in {}\n\
         hint: name it e.g. {}; other formats are written by {WRITERS}",
        path.display(),
        want.join(" or "),
        path.with_extension(extensions[0]).display()
    )
}

/// `path` with links and `..` resolved; for a file not yet written, its folder resolved.
fn resolved(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok().or_else(|| {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
    })
}

/// Fails, before anything is written, when `output` is one of `inputs` (compared with links
/// and `..` resolved), so a command never overwrites what it reads.
pub fn refuse_input_as_output(inputs: &[PathBuf], output: &Path) -> anyhow::Result<()> {
    let Some(out) = resolved(output) else {
        return Ok(());
    };
    if let Some(input) = inputs.iter().find(|i| resolved(i).as_ref() == Some(&out)) {
        anyhow::bail!(
            "{}: this is also the input {}; nothing was written\nhint: name a different output \
             file",
            output.display(),
            input.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_named_kinds_only() {
        assert!(expect_extension(Path::new("a/b.NES"), "build", "a ROM", &["nes"]).is_ok());
        assert!(expect_extension(Path::new("b.nsfe"), "nsf", "NSF", &["nsf", "nsfe"]).is_ok());
        let e = expect_extension(Path::new("song.mid"), "render", "WAV audio", &["wav"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("song.mid: `nesmm render` writes WAV audio")
                && e.contains("must end in .wav")
                && e.contains("e.g. song.wav")
                && e.contains("`nesmm convert`"),
            "{e}"
        );
        assert!(expect_extension(Path::new("noext"), "plot", "a PNG", &["png"]).is_err());
    }

    #[test]
    fn the_input_is_never_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let song = dir.path().join("a.mid");
        std::fs::write(&song, b"x").unwrap();
        let same = dir.path().join("sub/../a.mid");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let e = refuse_input_as_output(std::slice::from_ref(&song), &same)
            .unwrap_err()
            .to_string();
        assert!(e.contains("also the input") && e.contains("a.mid"), "{e}");
        assert!(refuse_input_as_output(&[song], &dir.path().join("b.mid")).is_ok());
    }
}
