//! The `facegan` command line as a library, so integration tests drive the same code paths.

pub mod atomic_file;
pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod data;
pub mod export;
pub mod generate;
pub mod prepare;
pub mod render;
pub mod sketch;
pub mod train;
pub mod translate;
