//! Conversions between the networks' tensors and 8-bit RGB pixels.

/// Turns generator output (`[n, 3, size, size]` values in [-1, 1], flattened NCHW) into `n`
/// RGB8 images of `size * size * 3` bytes each, row-major HWC.
pub fn nchw_to_rgb8(values: &[f32], size: usize) -> Vec<Vec<u8>> {
    let plane = size * size;
    assert_eq!(
        values.len() % (3 * plane),
        0,
        "not a whole number of RGB images"
    );
    values
        .chunks_exact(3 * plane)
        .map(|image| {
            let mut rgb = vec![0u8; 3 * plane];
            for (pixel, out) in rgb.chunks_exact_mut(3).enumerate() {
                for (channel, byte) in out.iter_mut().enumerate() {
                    *byte = to_byte(image[channel * plane + pixel]);
                }
            }
            rgb
        })
        .collect()
}

/// Maps [-1, 1] to [0, 255] with rounding, clamping what a network overshoots.
pub fn to_byte(value: f32) -> u8 {
    ((value.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

/// Maps a byte to the [-1, 1] range the networks see.
pub fn from_byte(byte: u8) -> f32 {
    f32::from(byte) / 127.5 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for byte in 0..=255u8 {
            assert_eq!(to_byte(from_byte(byte)), byte);
        }
    }

    #[test]
    fn planes_become_interleaved_pixels() {
        // One 2x2 image whose red plane is -1, green 0, blue 1.
        let mut values = vec![-1.0; 4];
        values.extend([0.0; 4]);
        values.extend([1.0; 4]);
        let images = nchw_to_rgb8(&values, 2);
        assert_eq!(images.len(), 1);
        assert_eq!(&images[0][..3], &[0, 128, 255]);
        assert_eq!(images[0].len(), 12);
    }
}
