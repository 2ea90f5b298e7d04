//! A picture of what the directions do to one face: a row through every hair swatch, a row
//! through every eye swatch (each starting with the face itself), then one strip per slider
//! direction (the page's sliders) from -3 to +3, in the file's order; the README's figure is this.

use std::path::Path;

use burn::tensor::Device;
use facegan_model::directions::{ColourPart, Directions, Edit};
use facegan_model::{FaceGenerator, GeneratorConfig, latent_for_seed};

use super::reach::{edited_faces, reach_colours};
use crate::render::{grid, save_png_atomically};

/// Amounts of each slider strip.
const STRIP: [f32; 7] = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0];

pub fn write(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    directions: &Directions,
    seed: u64,
    out: &Path,
    device: &Device,
) -> anyhow::Result<()> {
    let size = config.image_size();
    let latent = latent_for_seed(seed, config.latent_size());
    let face = |edit: Edit| -> anyhow::Result<Vec<u8>> {
        let faces = edited_faces(
            generator,
            config,
            directions,
            std::slice::from_ref(&latent),
            &[edit],
            device,
        )?;
        Ok(faces.into_iter().next().expect("one face"))
    };
    let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
    for part in ColourPart::ALL {
        let mut row = vec![face(Edit::new())?];
        for swatch in directions.swatches(part) {
            let found = reach_colours(
                generator,
                config,
                directions,
                std::slice::from_ref(&latent),
                &Edit::new(),
                &[(part, swatch)],
                device,
            )?;
            row.push(found.into_iter().next().expect("one face").face);
        }
        rows.push(row);
    }
    for direction in directions.directions.iter().filter(|d| d.is_slider()) {
        let strip = STRIP
            .iter()
            .map(|&amount| face(vec![(direction.name.clone(), amount)]))
            .collect::<anyhow::Result<Vec<_>>>()?;
        rows.push(strip);
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1);
    let blank = vec![255u8; size * size * 3];
    let cells: Vec<Vec<u8>> = rows
        .into_iter()
        .flat_map(|mut row| {
            row.resize(columns, blank.clone());
            row
        })
        .collect();
    save_png_atomically(&grid(&cells, size, columns), out)?;
    log::info!("wrote {}", out.display());
    Ok(())
}
