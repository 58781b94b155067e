//! The README's commands cannot rot. Convention (documented in the README's last section):
//! every `nesmm ...` / `cargo run [--release] -- ...` line in a ```sh block must name a real
//! subcommand (it is run with `--help` appended); blocks preceded by `<!-- test -->` are run
//! for real, in order, as the built binary, in a fresh folder holding `song.exprsco.pkl`.

use nesmm::Score;
use std::path::Path;
use std::process::Command;

/// A command found in the README: its arguments after `nesmm`, and whether it runs for real.
#[derive(Debug, PartialEq)]
struct ReadmeCommand {
    line: usize,
    args: Vec<String>,
    runnable: bool,
}

/// The `nesmm` commands of the ```sh blocks of `markdown`.
fn commands(markdown: &str) -> Vec<ReadmeCommand> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut tagged = false;
    let mut block_tagged = false;
    for (i, raw) in markdown.lines().enumerate() {
        let line = raw.trim();
        if !in_sh && line.starts_with("```sh") {
            in_sh = true;
            block_tagged = tagged;
            continue;
        }
        if in_sh && line.starts_with("```") {
            in_sh = false;
            tagged = false;
            continue;
        }
        if !in_sh {
            if line == "<!-- test -->" {
                tagged = true;
            } else if !line.is_empty() {
                tagged = false;
            }
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let args = match words.as_slice() {
            ["nesmm", rest @ ..] => rest.to_vec(),
            ["cargo", "run", rest @ ..] => match rest.iter().position(|w| *w == "--") {
                Some(p) => rest[p + 1..].to_vec(),
                None => continue,
            },
            _ => continue,
        };
        out.push(ReadmeCommand {
            line: i + 1,
            args: args.iter().map(|a| a.to_string()).collect(),
            runnable: block_tagged,
        });
    }
    out
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn extraction_follows_the_convention() {
    let md = "x\n<!-- test -->\n```sh\nnesmm info a.pkl\n# comment\n```\n\n```sh\ncargo run --release -- demo\ncargo test\n```\n<!-- test -->\n\ntext\n```sh\nnesmm plot b\n```\n";
    let c = commands(md);
    assert_eq!(
        c,
        vec![
            ReadmeCommand {
                line: 4,
                args: vec!["info".into(), "a.pkl".into()],
                runnable: true
            },
            ReadmeCommand {
                line: 9,
                args: vec!["demo".into()],
                runnable: false
            },
            ReadmeCommand {
                line: 16,
                args: vec!["plot".into(), "b".into()],
                runnable: false
            },
        ]
    );
}

#[test]
fn every_readme_command_names_a_real_subcommand() {
    let cmds = commands(&readme());
    assert!(
        cmds.iter()
            .any(|c| c.args.first().map(String::as_str) == Some("demo")),
        "the README shows the demo"
    );
    for c in &cmds {
        let o = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(&c.args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "README.md line {}: `nesmm {}` is not a valid command:\n{}",
            c.line,
            c.args.join(" "),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let md = readme();
    assert!(
        md.contains("```sh\ncargo test\n```"),
        "README shows `cargo test`"
    );
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run runs `cargo test`"
    );
}

#[test]
fn tagged_readme_commands_run() {
    let cmds: Vec<_> = commands(&readme())
        .into_iter()
        .filter(|c| c.runnable)
        .collect();
    assert!(
        cmds.len() >= 3,
        "the README has runnable examples: {cmds:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    // 10 s: a scale on P1, a held fifth on P2, a bass line, a beat.
    let frames: Vec<[u8; 4]> = (0..240u32)
        .map(|f| {
            [
                60 + (f / 12 % 8) as u8,
                if f % 48 < 40 { 67 } else { 0 },
                36 + (f / 24 % 4) as u8 * 2,
                if f % 12 < 2 { 10 } else { 0 },
            ]
        })
        .collect();
    let mut song = Score::from_notes("song", 24.0, &frames);
    song.expressive = true;
    nesmm::formats::save_score(&song, &dir.path().join("song.exprsco.pkl")).unwrap();
    for c in &cmds {
        let o = Command::new(env!("CARGO_BIN_EXE_nesmm"))
            .args(&c.args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "README.md line {}: `nesmm {}` failed:\n{}{}",
            c.line,
            c.args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    for f in [
        "song.mid", "roll.png", "song.wav", "song.txt", "song.nsf", "song.nes",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} was not written");
    }
}
