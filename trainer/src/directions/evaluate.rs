//! How well named colours are reached on held-out faces, and what else changes: printed as
//! the table of docs/face-controls.md.

use burn::tensor::Device;
use facegan_model::attributes::{Lab, layout, measure};
use facegan_model::directions::{ColourPart, Directions, Edit};
use facegan_model::{FaceGenerator, GeneratorConfig};

use super::reach::{edited_faces, reach_colours};

/// Pixels this close (CIE76) to a face's measured hair colour count as its hair.
const HAIR_DISTANCE: f32 = 15.0;

pub fn run(
    generator: &FaceGenerator,
    config: &GeneratorConfig,
    directions: &Directions,
    latents: &[Vec<f32>],
    device: &Device,
) -> anyhow::Result<()> {
    let size = config.image_size();
    let none = vec![Edit::new(); latents.len()];
    let start = edited_faces(generator, config, directions, latents, &none, device)?;
    let start_attributes: Vec<_> = start.iter().map(|f| measure(f, size)).collect();
    println!(
        "\nNamed colours asked of {} held-out faces (seeds from {}):",
        latents.len(),
        super::HELD_OUT_SEED
    );
    println!(
        "| asked | had it | reached | rounds | other colour dE | skin dL | background dL | face size d | pixels elsewhere |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut failures = Vec::new();
    for part in ColourPart::ALL {
        let mut reached_all = 0;
        let mut asked_all = 0;
        for swatch in directions.swatches(part) {
            let results = reach_colours(
                generator,
                config,
                directions,
                latents,
                &Edit::new(),
                &[(part, swatch)],
                device,
            )?;
            let n = results.len() as f32;
            let had = start_attributes
                .iter()
                .filter(|a| part.name_of(part.measured(a)) == swatch.name)
                .count();
            let reached = results.iter().filter(|r| r.reached).count();
            reached_all += reached;
            let mut ends = std::collections::BTreeMap::<&str, usize>::new();
            for r in results.iter().filter(|r| !r.reached) {
                let clamped = r
                    .edit
                    .iter()
                    .any(|(_, a)| a.abs() >= part.max_amount() - 0.01);
                let end = part.name_of(part.measured(&r.attributes));
                *ends
                    .entry(if clamped { "(at the limit)" } else { end })
                    .or_default() += 1;
                if clamped {
                    *ends.entry(end).or_default() += 1;
                }
            }
            if !ends.is_empty() {
                failures.push((
                    swatch.name.clone(),
                    ends.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
            asked_all += results.len();
            let mean = |f: &dyn Fn(usize) -> f32| (0..results.len()).map(f).sum::<f32>() / n;
            let other = |i: usize| -> f32 {
                let (before, after) = (&start_attributes[i], &results[i].attributes);
                match part {
                    ColourPart::Hair => before.eyes.distance(&after.eyes),
                    ColourPart::Eyes => before.hair.distance(&after.hair),
                }
            };
            println!(
                "| {} {} | {:.0}% | **{:.1}%** | {:.1} | {:.1} | {:.1} | {:.1} | {:.3} | {:.1}/255 |",
                swatch.name,
                part.id(),
                100.0 * had as f32 / n,
                100.0 * reached as f32 / n,
                mean(&|i| results[i].rounds as f32),
                mean(&other),
                mean(&|i| (results[i].attributes.skin_lightness
                    - start_attributes[i].skin_lightness)
                    .abs()),
                mean(&|i| {
                    (results[i].attributes.background_lightness
                        - start_attributes[i].background_lightness)
                        .abs()
                }),
                mean(&|i| (results[i].attributes.face_fill - start_attributes[i].face_fill).abs()),
                mean(&|i| {
                    let before = (start[i].as_slice(), start_attributes[i].hair);
                    let after = (results[i].face.as_slice(), results[i].attributes.hair);
                    change_elsewhere(part, before, after, size)
                }),
            );
        }
        for (swatch, ends) in &failures {
            println!(
                "(asked {swatch} {}: missed faces ended as {ends})",
                part.id()
            );
        }
        failures.clear();
        println!(
            "| all {} colours | | **{:.1}%** | | | | | | |",
            part.id(),
            100.0 * reached_all as f32 / asked_all.max(1) as f32
        );
    }
    println!(
        "(pixels elsewhere: mean change, 0-255, of the pixels that are hair in neither face \
         for hair, outside the two eye regions for eyes)"
    );
    Ok(())
}

/// Mean absolute change of the pixels the edit is not meant to touch.
fn change_elsewhere(
    part: ColourPart,
    (before, hair_before): (&[u8], Lab),
    (after, hair_after): (&[u8], Lab),
    size: usize,
) -> f32 {
    let eye_regions = layout::EYES.map(|r| r.at(size));
    let mut total = 0u64;
    let mut count = 0u64;
    for (i, (a, b)) in before
        .chunks_exact(3)
        .zip(after.chunks_exact(3))
        .enumerate()
    {
        let touched = match part {
            ColourPart::Hair => {
                let rgb = |p: &[u8]| Lab::from_rgb([p[0], p[1], p[2]]);
                rgb(a).distance(&hair_before) < HAIR_DISTANCE
                    || rgb(b).distance(&hair_after) < HAIR_DISTANCE
            }
            ColourPart::Eyes => {
                let (y, x) = (i / size, i % size);
                eye_regions
                    .iter()
                    .any(|(rows, columns)| rows.contains(&y) && columns.contains(&x))
            }
        };
        if !touched {
            total += a
                .iter()
                .zip(b)
                .map(|(&p, &q)| u64::from(p.abs_diff(q)))
                .sum::<u64>();
            count += 3;
        }
    }
    total as f32 / count.max(1) as f32
}
