//! CycleGAN's image pool (Shrivastava et al. 2017): the discriminators see fakes from the last
//! few dozen steps, not only the newest, so the generators cannot win by chasing the
//! discriminators' latest blind spot.

use burn::tensor::{Device, Tensor, TensorData};
use facegan_model::SplitMix64;

/// Up to `capacity` past generated images of one domain, `[c, s, s]` each.
#[derive(Debug, Clone, Default)]
pub struct ImagePool {
    capacity: usize,
    images: Vec<Vec<f32>>,
}

impl ImagePool {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            images: Vec::new(),
        }
    }

    /// The batch the discriminator should see for the newly generated `fakes` `[n, c, s, s]`:
    /// while the pool fills, the fakes themselves; then each image is, with even odds, the new
    /// one, or a stored one it replaces.
    pub fn query(&mut self, fakes: Tensor<4>, rng: &mut SplitMix64) -> Tensor<4> {
        if self.capacity == 0 {
            return fakes;
        }
        let dims = fakes.dims();
        let device = fakes.device();
        let values = fakes
            .into_data()
            .try_to_vec::<f32>()
            .expect("generated images are f32");
        let per_image = dims[1] * dims[2] * dims[3];
        let mut out = Vec::with_capacity(values.len());
        for image in values.chunks_exact(per_image) {
            if self.images.len() < self.capacity {
                self.images.push(image.to_vec());
                out.extend_from_slice(image);
            } else if rng.chance(0.5) {
                let slot = rng.below(self.capacity);
                out.extend_from_slice(&self.images[slot]);
                self.images[slot] = image.to_vec();
            } else {
                out.extend_from_slice(image);
            }
        }
        tensor(out, dims, &device)
    }

    /// The pool as bytes for a checkpoint (capacity, image length, then f32 values).
    pub fn to_bytes(&self) -> Vec<u8> {
        let per_image = self.images.first().map_or(0, Vec::len);
        let mut bytes = Vec::with_capacity(16 + self.images.len() * per_image * 4);
        bytes.extend_from_slice(&(self.capacity as u64).to_le_bytes());
        bytes.extend_from_slice(&(per_image as u64).to_le_bytes());
        for value in self.images.iter().flatten() {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        bytes
    }

    /// Reads [`ImagePool::to_bytes`]; `None` when the bytes are not a pool.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let capacity = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
        let per_image = u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?) as usize;
        let values: Vec<f32> = bytes[16..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        if !bytes[16..].len().is_multiple_of(4) || (per_image == 0 && !values.is_empty()) {
            return None;
        }
        let images = if per_image == 0 {
            Vec::new()
        } else {
            if !values.len().is_multiple_of(per_image) {
                return None;
            }
            values
                .chunks_exact(per_image)
                .map(<[f32]>::to_vec)
                .collect()
        };
        Some(Self { capacity, images })
    }
}

fn tensor(values: Vec<f32>, dims: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, dims), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(value: f32, device: &Device) -> Tensor<4> {
        Tensor::full([2, 1, 2, 2], value, device)
    }

    fn firsts(t: Tensor<4>) -> Vec<f32> {
        t.into_data()
            .try_to_vec::<f32>()
            .unwrap()
            .chunks(4)
            .map(|c| c[0])
            .collect()
    }

    #[test]
    fn fills_then_mixes_old_and_new_and_round_trips() {
        let device = Device::flex();
        let mut rng = SplitMix64::new(3);
        let mut pool = ImagePool::new(4);
        assert_eq!(
            firsts(pool.query(batch(1.0, &device), &mut rng)),
            [1.0, 1.0]
        );
        assert_eq!(
            firsts(pool.query(batch(2.0, &device), &mut rng)),
            [2.0, 2.0]
        );
        let mut seen_old = false;
        for step in 3..40 {
            let out = firsts(pool.query(batch(step as f32, &device), &mut rng));
            seen_old |= out.iter().any(|&v| v < step as f32);
        }
        assert!(seen_old, "the pool never returned an older image");
        let back = ImagePool::from_bytes(&pool.to_bytes()).unwrap();
        assert_eq!(back.images, pool.images);
        assert_eq!(back.capacity, 4);
        assert!(ImagePool::from_bytes(&[1, 2, 3]).is_none());
    }
}
