//! The morph between two faces: latents along a spherical interpolation, and the GIF export of
//! the rendered frames. Pure Rust, so it is tested natively.

use facegan_model::{latent_for_seed, slerp};

/// Frames from one face to the other, both ends included.
pub const MORPH_FRAMES: usize = 24;
/// Time each frame is shown, in hundredths of a second (GIF's unit).
pub const FRAME_DELAY_CS: u16 = 6;

/// Latents from `from` to `to` along the great circle, `frames` of them.
pub fn morph_latents(from: &[f32], to: &[f32], frames: usize) -> Vec<Vec<f32>> {
    assert!(frames >= 2, "a morph needs both ends");
    (0..frames)
        .map(|i| slerp(from, to, i as f32 / (frames - 1) as f32))
        .collect()
}

/// Latents of the morph from seed `from` to seed `to`.
pub fn morph_between_seeds(from: u64, to: u64, latent_size: usize) -> Vec<Vec<f32>> {
    morph_latents(
        &latent_for_seed(from, latent_size),
        &latent_for_seed(to, latent_size),
        MORPH_FRAMES,
    )
}

/// The order frames are played in a loop: there and back, without showing an end twice.
pub fn ping_pong(frames: usize) -> Vec<usize> {
    let back = (1..frames.saturating_sub(1)).rev();
    (0..frames).chain(back).collect()
}

/// Encodes RGB8 frames (`size * size * 3` bytes each) as a looping GIF, played there and back.
pub fn encode_gif(frames: &[Vec<u8>], size: usize) -> Result<Vec<u8>, gif::EncodingError> {
    let side = u16::try_from(size).expect("faces are at most 128 px");
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, side, side, &[])?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        for index in ping_pong(frames.len()) {
            // Speed 10 of 30: NeuQuant's default balance of palette quality and time.
            let mut frame = gif::Frame::from_rgb_speed(side, side, &frames[index], 10);
            frame.delay = FRAME_DELAY_CS;
            encoder.write_frame(&frame)?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_pong_goes_there_and_back() {
        assert_eq!(ping_pong(4), [0, 1, 2, 3, 2, 1]);
        assert_eq!(ping_pong(2), [0, 1]);
    }

    #[test]
    fn morph_starts_and_ends_at_the_seeds() {
        let frames = morph_between_seeds(3, 4, 16);
        assert_eq!(frames.len(), MORPH_FRAMES);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(&frames[0], &latent_for_seed(3, 16)));
        assert!(close(&frames[MORPH_FRAMES - 1], &latent_for_seed(4, 16)));
        assert!(!close(&frames[MORPH_FRAMES / 2], &frames[0]));
    }

    #[test]
    fn gif_holds_every_frame_of_the_loop() {
        let size = 8;
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i * 50; size * size * 3]).collect();
        let bytes = encode_gif(&frames, size).unwrap();
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options.read_info(bytes.as_slice()).unwrap();
        let mut reds = Vec::new();
        while let Some(frame) = decoder.read_next_frame().unwrap() {
            assert_eq!((frame.width, frame.height), (8, 8));
            assert_eq!(frame.delay, FRAME_DELAY_CS);
            reds.push(frame.buffer[0]);
        }
        // There and back: 0 1 2 3 4 3 2 1 (palette quantisation may move a value slightly).
        let expected = [0u8, 50, 100, 150, 200, 150, 100, 50];
        assert_eq!(reds.len(), expected.len());
        for (red, want) in reds.iter().zip(expected) {
            assert!(red.abs_diff(want) <= 4, "{reds:?}");
        }
    }
}
