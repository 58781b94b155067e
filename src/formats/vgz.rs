//! `.vgz`: a VGM compressed with gzip, the form vgmrips.net distributes. Read in place (by the
//! gzip magic, whatever the name) and written when the output's name ends in `.vgz`.
//!
//! flate2 does the (de)compression; the size of what comes out is capped, so a small damaged
//! or hostile file cannot make the reader allocate without bound.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest VGM a `.vgz` may unpack to. NES-MDB's longest log is about 2 MiB.
pub const MAX_INFLATED: u64 = 64 << 20;

/// Whether `bytes` start with the gzip magic (RFC 1952: `1F 8B`).
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1F, 0x8B])
}

/// Whether `path` asks for a compressed VGM.
pub fn is_vgz_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("vgz"))
}

/// `bytes` unpacked when they are gzip, else as they are. `origin` names the file in errors.
pub fn inflate_if_gzip(bytes: Vec<u8>, origin: &Path) -> Result<Vec<u8>> {
    if !is_gzip(&bytes) {
        if is_vgz_name(origin) && !bytes.starts_with(b"Vgm ") {
            return Err(Error::format(
                origin,
                "not a VGZ file (neither the gzip magic 1F 8B nor \"Vgm \" at offset 0)",
            ));
        }
        return Ok(bytes);
    }
    let mut out = Vec::new();
    let mut reader = flate2::read::MultiGzDecoder::new(bytes.as_slice()).take(MAX_INFLATED + 1);
    reader.read_to_end(&mut out).map_err(|e| {
        Error::format(
            origin,
            format!(
                "damaged gzip data after {} unpacked bytes: {e} (the .vgz is cut short or \
                 corrupt)",
                out.len()
            ),
        )
    })?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(Error::format(
            origin,
            format!(
                "the gzip data unpacks to more than {} MiB; no NES VGM is that large",
                MAX_INFLATED >> 20
            ),
        ));
    }
    if !out.starts_with(b"Vgm ") {
        return Err(Error::Unsupported(format!(
            "{}: a gzip file, but what it holds is not a VGM (no \"Vgm \" magic once unpacked)",
            origin.display()
        )));
    }
    Ok(out)
}

/// `vgm` compressed with gzip (best compression, as vgmrips' packs are).
pub fn deflate(vgm: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    enc.write_all(vgm).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_plain_pass_through() {
        let vgm = b"Vgm rest of a log".to_vec();
        let z = deflate(&vgm);
        assert!(is_gzip(&z));
        assert_eq!(inflate_if_gzip(z, Path::new("a.vgz")).unwrap(), vgm);
        assert_eq!(
            inflate_if_gzip(vgm.clone(), Path::new("a.vgz")).unwrap(),
            vgm
        );
    }

    #[test]
    fn damaged_or_foreign_gzip_is_named() {
        let z = deflate(&[b'V'; 5000]);
        let e = inflate_if_gzip(z.clone(), Path::new("x.vgz"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.vgz") && e.contains("not a VGM"), "{e}");
        let cut = z[..z.len() / 2].to_vec();
        let e = inflate_if_gzip(cut, Path::new("c.vgz"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.vgz") && e.contains("damaged gzip"), "{e}");
        let e = inflate_if_gzip(b"PK\x03\x04zip".to_vec(), Path::new("z.vgz"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("z.vgz") && e.contains("not a VGZ"), "{e}");
    }
}
