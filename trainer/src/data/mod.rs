//! Training images: finding, decoding and batching them.

mod batch;
mod loader;

pub use batch::{batch_tensor, rgb8_tensor};
pub use loader::{
    IMAGE_EXTENSIONS, ImageSet, Skipped, decode_files, find_images, load_files, load_folder,
    load_training_set, report_skipped,
};
