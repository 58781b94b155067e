//! The cost of one training checkpoint at the bundled `lstm-full` size (weights, AdamW moments,
//! the carried state of 32 lanes, progress): the files renamed one by one as before checkpoint
//! generations, against one generation (`learn::train::checkpoint`). Prints milliseconds (median
//! of `N` writes) as JSON. The folder is a temporary one under `TMPDIR`.
//!
//! `cargo run --example checkpoint_cost -- [N]`

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use nesmm::learn::generate::bundled_model_dir;
use nesmm::learn::models::lstm::NoteLstm;
use nesmm::learn::models::model_dir::{read_config, save_tensors, set_varmap, varmap_tensors};
use nesmm::learn::optim::{AdamW, AdamWParams};
use nesmm::learn::train::checkpoint::Checkpoints;
use std::collections::HashMap;
use std::time::Instant;

fn median_ms(mut f: impl FnMut(), n: usize) -> f64 {
    let mut t: Vec<f64> = (0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[n / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = bundled_model_dir("lstm-full").expect("the bundled models/lstm-full");
    let file = read_config(&dir).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let _model = NoteLstm::new(file.model.clone(), vb).unwrap();
    let weights = dir.join("model.safetensors");
    set_varmap(
        &varmap,
        &nesmm::learn::models::model_dir::load_tensors(&weights).unwrap(),
        &weights,
    )
    .unwrap();
    let opt = AdamW::new(&varmap, AdamWParams::default()).unwrap();
    let lanes = 2 * file.model.hidden * 32;
    let carry: HashMap<String, Tensor> = (0..file.model.layers)
        .map(|l| {
            (
                format!("carry.{l}"),
                Tensor::zeros(lanes, DType::F32, &Device::Cpu).unwrap(),
            )
        })
        .collect();
    let state = serde_json::json!({ "epoch": 1, "batch_in_epoch": 10, "step": 1000 });
    let tmp = tempfile::tempdir().unwrap();

    let last = tmp.path().join("before/last");
    let before = median_ms(
        || {
            save_tensors(&varmap_tensors(&varmap), &last.join("model.safetensors")).unwrap();
            save_tensors(&opt.state(), &last.join("optimizer.safetensors")).unwrap();
            save_tensors(&carry, &last.join("carry.safetensors")).unwrap();
            let text = serde_json::to_string_pretty(&state).unwrap();
            nesmm::io::write_atomic(last.join("state.json"), text.as_bytes()).unwrap();
        },
        n,
    );
    let out = tmp.path().join("after");
    let mut ck = Checkpoints::open(&out).unwrap();
    let after = median_ms(
        || {
            let model = varmap_tensors(&varmap);
            let moments = opt.state();
            let files = [
                ("model", &model),
                ("optimizer", &moments),
                ("carry", &carry),
            ];
            ck.write(&files, &state).unwrap();
        },
        n,
    );
    let bytes: u64 = std::fs::read_dir(ck.latest().unwrap().dir.clone())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "{{\"writes\": {n}, \"bytes\": {bytes}, \"four_files_ms\": {before:.2}, \"generation_ms\": {after:.2}}}"
    );
}
