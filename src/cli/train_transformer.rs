//! `nesmm train --model transformer`: the event Transformer's options, data and run.

use super::train::TrainArgs;
use nesmm::formats::nesmdb::Split;
use nesmm::learn::data::coding::Coding;
use nesmm::learn::data::event_windows::{Augment, EventSet};
use nesmm::learn::data::{coding_data_path, load_coded};
use nesmm::learn::train::transformer_checkpoint as store;
use nesmm::learn::train::transformer_run::{train, Run, RunLimits, RunOptions};
use std::path::PathBuf;

/// The run's options: the CPU recipe with every given option applied.
fn options(a: &TrainArgs) -> anyhow::Result<RunOptions> {
    let coding = match &a.coding {
        None => Coding::Notes,
        Some(name) => Coding::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("unknown --coding '{name}'\nhint: use notes or expressive")
        })?,
    };
    let d = RunOptions::cpu_default(coding);
    let mut o = d.clone();
    o.model.d_model = a.d_model.unwrap_or(d.model.d_model);
    o.model.layers = a.layers.unwrap_or(d.model.layers);
    o.model.heads = a.heads.unwrap_or(d.model.heads);
    o.model.d_ff = a.d_ff.unwrap_or(d.model.d_ff);
    o.model.dropout = a.dropout.unwrap_or(d.model.dropout);
    o.model.context = a.context.unwrap_or(d.model.context);
    o.epochs = a.epochs.unwrap_or(d.epochs);
    o.batch = a.batch.unwrap_or(d.batch);
    o.lr = a.lr.unwrap_or(d.lr);
    o.warmup = a.warmup.unwrap_or(d.warmup);
    o.clip = a.clip.unwrap_or(d.clip);
    o.weight_decay = a.weight_decay.unwrap_or(d.weight_decay);
    if let Some(t) = a.augment {
        o.augment = if t == 0 {
            Augment::none()
        } else {
            Augment {
                transpose: t,
                ..d.augment.clone()
            }
        };
    }
    if let Some(p) = a.voice_drop {
        o.augment.drop = p;
    }
    o.seed = a.seed.unwrap_or(d.seed);
    o.max_songs = a.max_songs;
    o.valid_every = a.valid_every.unwrap_or(d.valid_every);
    o.init_from = a.init_from.clone();
    Ok(o)
}

/// The options that differ between a stored run and this invocation, by name.
fn differences(stored: &RunOptions, now: &RunOptions) -> Vec<String> {
    let (a, b) = (
        serde_json::to_value(stored).unwrap_or_default(),
        serde_json::to_value(now).unwrap_or_default(),
    );
    let mut out = Vec::new();
    diff("", &a, &b, &mut out);
    out
}

fn diff(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            for (k, va) in x {
                let vb = y.get(k).unwrap_or(&serde_json::Value::Null);
                diff(&format!("{prefix}{k}."), va, vb, out);
            }
        }
        _ if a != b => out.push(format!(
            "{} (stored {a}, given {b})",
            prefix.trim_end_matches('.')
        )),
        _ => {}
    }
}

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("models/transformer"));
    let mut opts = options(&a)?;
    opts.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    if a.device != nesmm::learn::train::TrainDevice::Cpu && !cfg!(feature = "cuda") {
        anyhow::bail!("--device {:?} needs a build with --features cuda", a.device);
    }
    // One writer per folder, taken before anything in it is read.
    let _lock = nesmm::output_lock::FolderLock::acquire_folder(&out)?;
    let stored = store::stored_options(&out)?;
    if a.resume {
        if let Some(s) = &stored {
            // Options not given take the stored values; given ones must agree with them.
            let given = differences(s, &opts)
                .into_iter()
                .filter(|d| given_option(&a, d))
                .collect::<Vec<_>>();
            if !given.is_empty() {
                anyhow::bail!(
                    "{}: --resume with options that differ from the stored run: {}\nhint: leave them out to continue the run as it was started, or start a new run in another --out",
                    out.display(),
                    given.join(", ")
                );
            }
            opts = s.clone();
        }
    } else if !a.force && (stored.is_some() || out.join("config.json").exists()) {
        anyhow::bail!(
            "{} already holds a model or a run\nhint: --resume continues it, --force starts over in it, or choose another --out",
            out.display()
        );
    }
    let coding = opts.model.coding;
    let data = coding_data_path(coding, a.data.as_deref())?;
    eprintln!("reading {} ...", data.display());
    let songs = load_coded(&data, &[Split::Train, Split::Valid], opts.max_songs, coding)?;
    let mut sets = songs.into_iter().map(|s| {
        EventSet::new(coding, s.songs).map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))
    });
    let train_set = sets.next().expect("train split")?;
    let valid_set = sets.next().expect("valid split")?;
    eprintln!(
        "transformer ({} weights, {} coding): {} train songs ({} tokens, {:.1} tokens/s of music), {} valid songs; writing {}",
        opts.model.parameters(),
        coding.name(),
        train_set.songs.len(),
        train_set.tokens,
        train_set.tokens_per_second(),
        valid_set.songs.len(),
        out.display()
    );
    let dev = a.device.open()?;
    let mut run = Run::open(opts, &train_set, &valid_set, &dev, &out, a.resume)?;
    let limits = RunLimits {
        max_steps: a.max_steps,
        max_minutes: a.max_minutes,
        checkpoint_minutes: a.checkpoint_minutes.unwrap_or(10.0),
        progress: !a.quiet,
    };
    nesmm::learn::train::stop::catch_signals()?;
    let stopped = train(&mut run, &out, &limits)?;
    eprintln!(
        "done: {} of {} steps, {:.0} tokens/s, best sampled valid NLL {:.4} nats/token",
        run.state.step,
        run.total_steps(),
        run.state.tokens_seen as f64 / run.state.train_seconds.max(1e-9),
        run.state.best_valid.unwrap_or(f64::NAN)
    );
    if let Some(sig) = stopped {
        eprintln!(
            "checkpoint saved; continue with --resume --out {}",
            out.display()
        );
        std::process::exit(128 + sig);
    }
    Ok(())
}

/// Whether the option a difference names was given on this command line.
fn given_option(a: &TrainArgs, difference: &str) -> bool {
    let name = difference.split(' ').next().unwrap_or("");
    match name {
        "model.d_model" => a.d_model.is_some(),
        "model.layers" => a.layers.is_some(),
        "model.heads" => a.heads.is_some(),
        "model.d_ff" => a.d_ff.is_some(),
        "model.dropout" => a.dropout.is_some(),
        "model.context" => a.context.is_some(),
        "epochs" => a.epochs.is_some(),
        "batch" => a.batch.is_some(),
        "lr" => a.lr.is_some(),
        "warmup" => a.warmup.is_some(),
        "clip" => a.clip.is_some(),
        "weight_decay" => a.weight_decay.is_some(),
        "valid_every" => a.valid_every.is_some(),
        "model.coding" | "model.vocab" => a.coding.is_some(),
        "init_from" => a.init_from.is_some(),
        "augment.drop" => a.augment.is_some() || a.voice_drop.is_some(),
        n if n.starts_with("augment") => a.augment.is_some(),
        // Always on the command line (with a default): a difference is a real one.
        "max_songs" => a.max_songs.is_some(),
        "seed" => a.seed.is_some(),
        _ => true,
    }
}
