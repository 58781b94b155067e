//! Warm start: a new Transformer run that begins from a trained one's weights instead of the
//! seeded draw. The expressive coding extends the note coding without renumbering it
//! ([`crate::learn::data::expressive_events`]), so a note model's embedding and head rows are
//! the first rows of an expressive model's; the dynamics tokens' rows keep their seeded draw.

use crate::error::{Error, Result};
use crate::learn::models::model_dir::load_tensors;
use candle_core::Tensor;
use candle_nn::VarMap;
use std::path::Path;

/// What a warm start needs, said with each refusal.
const SAME_SHAPE: &str = "only the vocabulary may grow: give the new run the start model's \
     --d-model, --layers, --heads and --d-ff";

/// Copies the weights of the model in `dir` into `varmap`: a tensor of the same shape whole,
/// one whose first dimension (the vocabulary) is shorter row by row into the first rows.
/// Returns the number of weights copied. Any other difference is an error naming the file.
pub fn warm_start(varmap: &VarMap, dir: &Path) -> Result<usize> {
    let path = dir.join("model.safetensors");
    let from = load_tensors(&path)?;
    let data = varmap.data().lock().expect("varmap lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let mut copied = 0;
    for name in names {
        let var = &data[name];
        let src = from.get(name).ok_or_else(|| {
            Error::format(&path, format!("tensor '{name}' is missing; {SAME_SHAPE}"))
        })?;
        let (have, want) = (src.dims(), var.dims());
        let fits = have == want
            || (have.len() == want.len() && have[1..] == want[1..] && have[0] < want[0]);
        if !fits {
            return Err(Error::format(
                &path,
                format!(
                    "tensor '{name}' has shape {have:?}, the new model's {want:?}; {SAME_SHAPE}"
                ),
            ));
        }
        // On the new model's device and dtype first, so the seeded rows can be appended.
        let grown = || -> candle_core::Result<Tensor> {
            let src = src.to_dtype(var.dtype())?.to_device(var.device())?;
            if have == want {
                return Ok(src);
            }
            let seeded = var.as_tensor().narrow(0, have[0], want[0] - have[0])?;
            Tensor::cat(&[&src, &seeded], 0)
        };
        grown()
            .and_then(|t| var.set(&t))
            .map_err(|e| Error::format(&path, format!("tensor '{name}': {e}")))?;
        copied += src.elem_count();
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::data::coding::Coding;
    use crate::learn::models::model_dir::{save_tensors, varmap_tensors};
    use crate::learn::models::transformer::{init_from_seed, Transformer, TransformerConfig};
    use candle_core::{DType, Device};
    use candle_nn::VarBuilder;

    fn build(coding: Coding, d_model: usize, seed: u64) -> (VarMap, TransformerConfig) {
        let cfg = TransformerConfig {
            coding,
            vocab: coding.vocab(),
            d_model,
            layers: 1,
            heads: 2,
            d_ff: 16,
            dropout: 0.0,
            context: 8,
            rope_base: 10000.0,
        };
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        Transformer::new(cfg.clone(), vb).unwrap();
        init_from_seed(&varmap, &cfg, seed).unwrap();
        (varmap, cfg)
    }

    fn rows(t: &Tensor, n: usize) -> Vec<f32> {
        t.narrow(0, 0, n)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    #[test]
    fn a_note_model_seeds_the_shared_rows_of_an_expressive_one() {
        let dir = std::env::temp_dir().join(format!("nesmm-warm-{}", std::process::id()));
        let (notes, _) = build(Coding::Notes, 8, 1);
        save_tensors(&varmap_tensors(&notes), &dir.join("model.safetensors")).unwrap();
        let (expressive, _) = build(Coding::Expressive, 8, 2);
        let before = varmap_tensors(&expressive);
        let copied = warm_start(&expressive, &dir).unwrap();
        let (from, to) = (varmap_tensors(&notes), varmap_tensors(&expressive));
        assert_eq!(copied, from.values().map(|t| t.elem_count()).sum::<usize>());
        let n = Coding::Notes.vocab();
        for name in ["embed.weight", "head.weight", "head.bias"] {
            assert_eq!(rows(&to[name], n), rows(&from[name], n), "{name}");
            let extra = Coding::Expressive.vocab() - n;
            let tail = |t: &Tensor| t.narrow(0, n, extra).unwrap().flatten_all().unwrap();
            let (a, b) = (tail(&to[name]), tail(&before[name]));
            assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
        }
        assert_eq!(
            to["block0.qkv.weight"]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
            from["block0.qkv.weight"]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        );
        // Another width cannot be warm-started from.
        let (wide, _) = build(Coding::Expressive, 16, 2);
        let e = warm_start(&wide, &dir).unwrap_err().to_string();
        assert!(
            e.contains("model.safetensors") && e.contains("only the vocabulary"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
