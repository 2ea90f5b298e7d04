use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::image::from_byte;

use super::ImageSet;

/// Builds a `[n, 3, size, size]` batch in [-1, 1] from the images at `indices`, mirroring
/// those whose `flips` entry is true.
pub fn batch_tensor(
    set: &ImageSet,
    indices: &[usize],
    flips: &[bool],
    device: &Device,
) -> Tensor<4> {
    let images: Vec<&[u8]> = indices.iter().map(|&index| set.image(index)).collect();
    rgb8_tensor(&images, flips, set.size, device)
}

/// `[n, 3, size, size]` in [-1, 1] from `n` RGB8 images of `size * size` pixels (row-major
/// HWC), mirroring those whose `flips` entry is true.
pub fn rgb8_tensor(images: &[&[u8]], flips: &[bool], size: usize, device: &Device) -> Tensor<4> {
    let plane = size * size;
    let mut values = vec![0f32; images.len() * 3 * plane];
    for (slot, (&image, &flip)) in values
        .chunks_exact_mut(3 * plane)
        .zip(images.iter().zip(flips))
    {
        for y in 0..size {
            for x in 0..size {
                let source_x = if flip { size - 1 - x } else { x };
                let pixel = &image[(y * size + source_x) * 3..][..3];
                for channel in 0..3 {
                    slot[channel * plane + y * size + x] = from_byte(pixel[channel]);
                }
            }
        }
    }
    Tensor::from_data(
        TensorData::new(values, [images.len(), 3, size, size]),
        device,
    )
}
