use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::Context;
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbImage};

/// Writes an endlessly looping GIF (through a temporary file and a rename).
pub fn write_gif(frames: &[RgbImage], path: &Path, frame_ms: u32) -> anyhow::Result<()> {
    let temporary = path.with_extension("gif.tmp");
    {
        let file = File::create(&temporary)
            .with_context(|| format!("cannot create {}", temporary.display()))?;
        // Speed 10 of 30: colour quantisation good enough for faces, fast enough per epoch.
        let mut encoder = GifEncoder::new_with_speed(BufWriter::new(file), 10);
        encoder.set_repeat(Repeat::Infinite)?;
        for frame in frames {
            let rgba = image::DynamicImage::ImageRgb8(frame.clone()).into_rgba8();
            encoder.encode_frame(Frame::from_parts(
                rgba,
                0,
                0,
                Delay::from_numer_denom_ms(frame_ms, 1),
            ))?;
        }
    }
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
