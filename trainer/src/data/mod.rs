//! Training images: finding, decoding and batching them.

mod batch;
mod loader;

pub use batch::batch_tensor;
pub use loader::{IMAGE_EXTENSIONS, ImageSet, Skipped, find_images, load_folder};
