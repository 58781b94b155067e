//! WAV output: mono, 16-bit PCM, written atomically.

use crate::error::{Error, Result};
use std::io::Cursor;
use std::path::Path;

/// Encodes `samples` (-1..1, clipped beyond) as a mono 16-bit WAV file in memory.
pub fn wav_bytes(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let encode = |cursor: &mut Cursor<Vec<u8>>| -> std::result::Result<(), hound::Error> {
        let mut writer = hound::WavWriter::new(cursor, spec)?;
        {
            let mut w16 = writer.get_i16_writer(samples.len() as u32);
            for &s in samples {
                let v = if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) };
                w16.write_sample((v * 32767.0).round() as i16);
            }
            w16.flush()?;
        }
        writer.finalize()
    };
    encode(&mut cursor).map_err(|e| Error::Unsupported(format!("cannot encode WAV: {e}")))?;
    Ok(cursor.into_inner())
}

/// Writes `samples` to `path` as a mono 16-bit WAV at `sample_rate`, atomically (the whole file
/// is built in memory, written beside the destination and renamed over it).
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<()> {
    if samples.len() > (u32::MAX / 2 - 64) as usize {
        return Err(Error::Unsupported(format!(
            "{}: {} samples is too long for a WAV file",
            path.display(),
            samples.len()
        )));
    }
    let bytes = wav_bytes(samples, sample_rate)?;
    crate::io::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_length_rate() {
        let samples: Vec<f32> = (0..1000).map(|i| (i as f32 / 500.0) - 1.0).collect();
        let b = wav_bytes(&samples, 48_000).unwrap();
        assert_eq!(&b[0..4], b"RIFF");
        assert_eq!(&b[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([b[22], b[23]]), 1, "mono");
        assert_eq!(u32::from_le_bytes([b[24], b[25], b[26], b[27]]), 48_000);
        assert_eq!(u16::from_le_bytes([b[34], b[35]]), 16);
        assert_eq!(b.len(), 44 + 2000);
        let r = hound::WavReader::new(Cursor::new(b)).unwrap();
        let v: Vec<i16> = r.into_samples::<i16>().map(|s| s.unwrap()).collect();
        assert_eq!(v.len(), 1000);
        assert_eq!(v[0], -32767);
        assert_eq!(v[500], 0);
    }
}
