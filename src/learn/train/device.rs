//! Where `nesmm train` runs: the CPU (the hand-written LSTM gradients) or a CUDA GPU
//! (candle's autograd and CUDA kernels; a build with `--features cuda`).

use crate::error::{Error, Result};
use candle_core::Device;

/// The device `nesmm train` runs on. The hand-written LSTM gradients (the fast path) are for
/// the CPU; on a CUDA GPU every step goes through candle's autograd and CUDA kernels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrainDevice {
    #[default]
    Cpu,
    /// CUDA GPU by ordinal (needs a build with `--features cuda`).
    Cuda(usize),
}

impl TrainDevice {
    /// Parses `cpu`, `cuda` or `cuda:N`.
    pub fn parse(s: &str) -> std::result::Result<TrainDevice, String> {
        match s {
            "cpu" => Ok(TrainDevice::Cpu),
            "cuda" | "gpu" => Ok(TrainDevice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(TrainDevice::Cuda)
                .ok_or_else(|| format!("'{s}' is not a device: use cpu, cuda or cuda:N")),
        }
    }

    /// Opens the device; a CUDA device in a build without the `cuda` feature, or with no such
    /// GPU, is an error that says so.
    pub fn open(self) -> Result<Device> {
        match self {
            TrainDevice::Cpu => Ok(Device::Cpu),
            TrainDevice::Cuda(n) => Device::new_cuda(n).map_err(|e| {
                Error::Unsupported(format!(
                    "CUDA device {n}: {e}\nhint: build with `cargo build --release --features \
                     cuda` on a machine with the CUDA toolkit, or train on the CPU (--device cpu)"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_bad_ones_are_refused() {
        assert_eq!(TrainDevice::parse("cpu"), Ok(TrainDevice::Cpu));
        assert_eq!(TrainDevice::parse("cuda"), Ok(TrainDevice::Cuda(0)));
        assert_eq!(TrainDevice::parse("cuda:3"), Ok(TrainDevice::Cuda(3)));
        for bad in ["", "cuda:", "cuda:x", "tpu", "CPU"] {
            let e = TrainDevice::parse(bad).unwrap_err();
            assert!(e.contains("cpu, cuda or cuda:N"), "{bad}: {e}");
        }
        assert!(matches!(TrainDevice::Cpu.open(), Ok(Device::Cpu)));
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_get_it() {
        let e = TrainDevice::Cuda(0).open().unwrap_err().to_string();
        assert!(e.contains("--features cuda"), "{e}");
    }
}
