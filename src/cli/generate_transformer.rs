//! `nesmm generate --model transformer`: sample a song from the event Transformer.

use super::generate::{output_name, write_all, GenerateArgs};
use nesmm::learn::models::transformer_decoder::Decoder;
use nesmm::learn::models::transformer_dir as store;
use nesmm::learn::sample::transformer_sample::{sample, SampleOptions};
use nesmm::output::OutputOptions;
use nesmm::Region;
use std::path::Path;

pub fn run(a: &GenerateArgs, dir: &Path) -> anyhow::Result<()> {
    let model = store::load(dir)?;
    let decoder = Decoder::new(&model).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let mut o = SampleOptions::new(a.seconds, a.seed);
    o.name = output_name(a);
    o.temperature = a.temperature.unwrap_or(o.temperature);
    o.top_k = a.top_k.unwrap_or(o.top_k);
    o.top_p = a.top_p;
    o.truncation = a.truncation;
    o.window = a.window.unwrap_or(0);
    o.looped = a.looped;
    if !a.no_cache {
        o.cache = nesmm::learn::models::cache_weights::CacheWeights::load(dir)?;
    }
    if let Some(p) = &a.primer {
        let song = super::info::load_song(p)?;
        if (song.rate - nesmm::score::NESMDB_RATE).abs() > 1e-6 {
            anyhow::bail!(
                "{}: the primer runs at {} Hz; the models work at {} Hz",
                p.display(),
                song.rate,
                nesmm::score::NESMDB_RATE
            );
        }
        o.primer = Some((song.frames.clone(), a.primer_seconds));
    }
    let started = std::time::Instant::now();
    let s = sample(&decoder, &o).map_err(|e| match &a.primer {
        Some(p) => anyhow::anyhow!("{}: {e}", p.display()),
        None => anyhow::anyhow!("{e}"),
    })?;
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "sampled {} tokens in {took:.2} s ({:.0}x real time), mean NLL {:.3} nats/token",
        s.tokens.len(),
        s.score.duration_secs() / took.max(1e-9),
        s.mean_nll
    );
    if let Some((frame, seam, candidates)) = s.seam {
        eprintln!(
            "loop: intro {:.2} s, loop body from frame {frame} ({:.2} s); the jump back costs {seam:.3} nats/token against the song's mean {:.3} ({candidates} candidates weighed)",
            frame as f64 / nesmm::score::NESMDB_RATE,
            (s.score.len() - frame) as f64 / nesmm::score::NESMDB_RATE,
            s.mean_nll
        );
    }
    let out = OutputOptions {
        region: if a.pal { Region::Pal } else { Region::Ntsc },
        title: s.score.name.clone(),
        ..Default::default()
    };
    write_all(a, &s.score, &out, dir)
}
