//! Exact duplicates (same decoded pixels) and near duplicates (perceptual hashes within a
//! Hamming distance).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use image::RgbImage;
use image_hasher::{HashAlg, Hasher as PerceptualHasher, HasherConfig, ImageHash};

/// Identity of decoded pixels: size plus two independent hashes of the bytes, so files that
/// differ only in encoding or metadata collide and nothing else does in practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelKey {
    width: u32,
    height: u32,
    sip: u64,
    crc: u32,
}

pub fn pixel_key(image: &RgbImage) -> PixelKey {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    image.as_raw().hash(&mut hasher);
    PixelKey {
        width: image.width(),
        height: image.height(),
        sip: hasher.finish(),
        crc: crc32fast::hash(image.as_raw()),
    }
}

/// Groups of indices with equal keys, each sorted, groups in order of their first member;
/// only groups of two or more.
pub fn exact_groups(keys: &[PixelKey]) -> Vec<Vec<usize>> {
    let mut by_key: HashMap<PixelKey, Vec<usize>> = HashMap::new();
    for (index, key) in keys.iter().enumerate() {
        by_key.entry(*key).or_default().push(index);
    }
    let mut groups: Vec<Vec<usize>> = by_key.into_values().filter(|g| g.len() > 1).collect();
    groups.sort();
    groups
}

/// The perceptual hash used for near duplicates: a 256-bit DCT mean hash ("pHash", 16x16
/// low frequencies) of the image, which survives re-encoding, mild resizing and small colour
/// shifts. 64 bits proved too coarse: on a set of same-style anime faces, distinct faces fell
/// within a few bits of each other.
pub fn perceptual_hasher() -> PerceptualHasher {
    HasherConfig::new()
        .hash_alg(HashAlg::Mean)
        .hash_size(16, 16)
        .preproc_dct()
        .to_hasher()
}

pub fn perceptual_hash(hasher: &PerceptualHasher, image: &RgbImage) -> ImageHash {
    hasher.hash_image(image)
}

/// Bits of a hash.
pub const HASH_BITS: u32 = 256;

/// Clusters of near-identical images, by leader clustering: visiting `order` (best copy first),
/// an image joins the first leader within `threshold` bits, else leads a cluster of its own.
/// Every member is thus close to the copy that is kept, and no chain of small steps can link
/// two different pictures. Returns clusters of two or more, leader first.
pub fn near_clusters(hashes: &[ImageHash], order: &[usize], threshold: u32) -> Vec<Vec<usize>> {
    let words: Vec<Vec<u64>> = hashes
        .iter()
        .map(|h| {
            h.as_bytes()
                .chunks(8)
                .map(|chunk| chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
                .collect()
        })
        .collect();
    let distance = |a: usize, b: usize| -> u32 {
        words[a]
            .iter()
            .zip(&words[b])
            .map(|(x, y)| (x ^ y).count_ones())
            .sum()
    };
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for &image in order {
        match clusters
            .iter_mut()
            .find(|cluster| distance(cluster[0], image) <= threshold)
        {
            Some(cluster) => cluster.push(image),
            None => clusters.push(vec![image]),
        }
    }
    clusters.retain(|cluster| cluster.len() > 1);
    clusters
}
