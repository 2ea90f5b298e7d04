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
    let size = set.size;
    let plane = size * size;
    let mut values = vec![0f32; indices.len() * 3 * plane];
    for (slot, (&index, &flip)) in values
        .chunks_exact_mut(3 * plane)
        .zip(indices.iter().zip(flips))
    {
        let image = set.image(index);
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
        TensorData::new(values, [indices.len(), 3, size, size]),
        device,
    )
}
