//! A tiny randomly initialised four-voice LSTM written the way `nesmm train` writes models, so
//! `nesmm demo --model DIR` can be tested without the bundled model or NES-MDB.

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use nesmm::learn::lstm::{init_from_seed, ModelConfig, ModelKind, NoteLstm};
use nesmm::learn::models::model_dir::{save_tensors, varmap_tensors, write_config, ModelFile};
use nesmm::learn::vocab::Vocab;
use nesmm::{Score, Voice};
use std::path::Path;

/// Writes `config.json` and `model.safetensors` of an untrained tiny model into `dir`.
pub fn write_tiny_model(dir: &Path) {
    let notes: Vec<[u8; 4]> = (0..48u8)
        .map(|i| [60 + i % 12, 55 + i % 7, 40 + i % 5, 1 + i % 16])
        .collect();
    let s = Score::from_notes("v", 24.0, &notes);
    let vocab = Vocab::from_scores(&Voice::ALL, [&s]).unwrap();
    let config = ModelConfig {
        kind: ModelKind::LstmFull,
        vocab,
        embed: 4,
        hidden: 16,
        layers: 1,
        head_hidden: 8,
        dropout: 0.0,
        vae: None,
    };
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = NoteLstm::new(config.clone(), vb).unwrap();
    init_from_seed(&varmap, &model.config, 5).unwrap();
    save_tensors(&varmap_tensors(&varmap), &dir.join("model.safetensors")).unwrap();
    write_config(
        dir,
        &ModelFile {
            model: config,
            training: serde_json::Value::Null,
        },
    )
    .unwrap();
}
