//! Drawing edited faces natively, and reaching named colours: the command line's driver of
//! `facegan_model::directions::ColourSearch` (the page drives the same search asynchronously).

use burn::tensor::Device;
use facegan_model::directions::{ColourPart, ColourSearch, Directions, Edit, Found, Swatch};
use facegan_model::{FaceGenerator, GeneratorConfig};

use crate::generate::faces_for_latents;

/// Faces for `latents` moved by `edits` (one per latent).
pub fn edited_faces(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    directions: &Directions,
    latents: &[Vec<f32>],
    edits: &[Edit],
    device: &Device,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let moved = latents
        .iter()
        .zip(edits)
        .map(|(z, edit)| directions.apply(z, edit))
        .collect::<Result<Vec<_>, _>>()?;
    faces_for_latents(generator, config, &moved, device)
}

/// Moves each latent's edit (starting from `start`) until its face shows every colour in
/// `targets`, drawing all unfinished faces together each round.
pub fn reach_colours(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    directions: &Directions,
    latents: &[Vec<f32>],
    start: &Edit,
    targets: &[(ColourPart, &Swatch)],
    device: &Device,
) -> anyhow::Result<Vec<Found>> {
    let mut search = ColourSearch::new(
        directions,
        latents.to_vec(),
        vec![start.clone(); latents.len()],
        targets.iter().map(|&(part, s)| (part, s.clone())).collect(),
        config.image_size(),
    )?;
    loop {
        let to_draw = search.to_draw()?;
        if to_draw.is_empty() {
            return Ok(search.finish());
        }
        let (indices, moved): (Vec<usize>, Vec<Vec<f32>>) = to_draw.into_iter().unzip();
        let faces = faces_for_latents(generator, config, &moved, device)?;
        search.observe(indices.into_iter().zip(faces).collect());
    }
}
