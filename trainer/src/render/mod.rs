//! Turning generated pixels into files a person looks at: grids and animations.

mod animation;
mod grid;

pub use animation::write_gif;
pub use grid::{grid, save_png_atomically};
