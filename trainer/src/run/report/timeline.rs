//! The epochs' sample grids side by side in one PNG, labelled: how the samples grew, at a
//! glance and in a single picture for docs.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use image::RgbImage;
use image::imageops::{FilterType, resize};
use plotters::prelude::*;

use super::canvas::{Canvas, FONT};
use crate::render::save_png_atomically;
use crate::run::samples::spread_evenly;

/// Most epochs in the picture (first and last included).
pub const MOST_EPOCHS: usize = 8;
/// Height of each grid in the picture, and of the label band under it.
const GRID_SIDE: u32 = 200;
const LABEL_BAND: u32 = 26;
const GAP: u32 = 8;

/// Writes the grids of up to [`MOST_EPOCHS`] of `grids` (epoch, path), spread evenly, as a
/// strip at `path`; returns the epochs shown.
pub fn write_timeline(grids: &[(usize, PathBuf)], path: &Path) -> anyhow::Result<Vec<usize>> {
    let shown = spread_evenly(grids, MOST_EPOCHS);
    let mut thumbnails = Vec::new();
    for (epoch, grid) in &shown {
        let picture = image::open(grid)
            .with_context(|| format!("cannot read {}", grid.display()))?
            .to_rgb8();
        let width = (f64::from(picture.width()) * f64::from(GRID_SIDE)
            / f64::from(picture.height().max(1)))
        .round()
        .max(1.0) as u32;
        thumbnails.push((
            *epoch,
            resize(&picture, width, GRID_SIDE, FilterType::Triangle),
        ));
    }
    let width = thumbnails
        .iter()
        .map(|(_, thumbnail)| thumbnail.width() + GAP)
        .sum::<u32>()
        .max(GAP)
        + GAP;
    let height = GRID_SIDE + LABEL_BAND + 2 * GAP;
    let mut strip = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
    let mut left = GAP;
    let mut labels = Vec::new();
    for (epoch, thumbnail) in &thumbnails {
        image::imageops::replace(&mut strip, thumbnail, i64::from(left), i64::from(GAP));
        labels.push((left + thumbnail.width() / 2, format!("epoch {epoch}")));
        left += thumbnail.width() + GAP;
    }
    let (strip_width, strip_height) = strip.dimensions();
    let mut pixels = strip.into_raw();
    draw_labels(&mut pixels, (strip_width, strip_height), &labels)
        .map_err(|error| anyhow!("cannot label the sample timeline: {error}"))?;
    let strip = RgbImage::from_raw(strip_width, strip_height, pixels).expect("the strip's size");
    save_png_atomically(&strip, path)?;
    Ok(shown.into_iter().map(|(epoch, _)| *epoch).collect())
}

fn draw_labels(
    pixels: &mut [u8],
    size: (u32, u32),
    labels: &[(u32, String)],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = Canvas::new(pixels, size).into_drawing_area();
    let style = TextStyle::from((FONT, 15).into_font())
        .color(&RGBColor(60, 60, 60))
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ));
    for (centre, text) in labels {
        root.draw(&Text::new(
            text.as_str(),
            (*centre as i32, (GAP + GRID_SIDE + 5) as i32),
            style.clone(),
        ))?;
    }
    root.present()?;
    Ok(())
}
