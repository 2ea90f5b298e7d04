//! An anime-face detector reading OpenCV's LBP cascade XML (the format of nagadomi's
//! lbpcascade_animeface), evaluated like OpenCV's `CascadeClassifier::detectMultiScale`:
//! grayscale, histogram equalisation, an image pyramid, a sliding 24x24 window over integral
//! images, and OpenCV's rectangle grouping.

mod format;
mod gray;
mod group;
mod scan;

pub use format::{Cascade, CascadeError, Feature, Stage, WeakClassifier};
pub use gray::{GrayImage, equalize_histogram, to_gray};
pub use group::group_rectangles;
pub use scan::{DetectOptions, Rect, detect, detect_raw};
