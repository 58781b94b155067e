//! An RGB pixel buffer with the few drawing operations the piano roll needs (filled
//! rectangles, lines, bitmap text) and PNG encoding through the `png` crate.

use super::font::{glyph, GLYPH_H, GLYPH_W};
use crate::error::{Error, Result};
use std::path::Path;

/// An 8-bit RGB colour.
pub type Rgb = [u8; 3];

/// An RGB image, rows top to bottom, three bytes a pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    /// A `width` x `height` canvas filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Canvas {
        let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
        for _ in 0..width as usize * height as usize {
            pixels.extend_from_slice(&background);
        }
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// The colour at (`x`, `y`), or `None` outside the canvas.
    pub fn pixel(&self, x: u32, y: u32) -> Option<Rgb> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some([self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]])
    }

    /// Fills the rectangle with corner (`x`, `y`), clipped to the canvas.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, colour: Rgb) {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + w).min(self.width as i64);
        let y1 = (y + h).min(self.height as i64);
        for yy in y0..y1 {
            let row = yy as usize * self.width as usize;
            for xx in x0..x1 {
                let i = (row + xx as usize) * 3;
                self.pixels[i..i + 3].copy_from_slice(&colour);
            }
        }
    }

    /// Draws `text` with its top-left corner at (`x`, `y`), each font pixel `scale` pixels wide.
    /// Returns the x just after the last character.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: u32, colour: Rgb) -> i64 {
        let s = scale as i64;
        let mut cx = x;
        for c in text.chars() {
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (0b100 >> col) != 0 {
                        self.fill_rect(cx + col as i64 * s, y + row as i64 * s, s, s, colour);
                    }
                }
            }
            cx += (GLYPH_W as i64 + 1) * s;
        }
        cx
    }

    /// Width in pixels of `text` drawn at `scale`.
    pub fn text_width(text: &str, scale: u32) -> i64 {
        let n = text.chars().count() as i64;
        (n * (GLYPH_W as i64 + 1) - 1).max(0) * scale as i64
    }

    /// Height in pixels of a line of text at `scale`.
    pub fn text_height(scale: u32) -> i64 {
        (GLYPH_H * scale) as i64
    }

    /// The canvas as PNG bytes (8-bit RGB).
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let fail = |e: png::EncodingError| Error::Unsupported(format!("PNG encoding failed: {e}"));
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            let mut writer = enc.write_header().map_err(fail)?;
            writer.write_image_data(&self.pixels).map_err(fail)?;
            writer.finish().map_err(fail)?;
        }
        Ok(out)
    }

    /// Writes the canvas as a PNG file, atomically.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        crate::io::write_atomic(path, &self.to_png()?)
    }
}
