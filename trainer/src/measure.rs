//! `facegan measure`: the attributes the face controls steer (hair and eye colour, skin and
//! background lightness, face size), read from a folder of prepared faces: how a data set's
//! colours are spread, and how the measurements were checked against people's eyes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use facegan_model::attributes::{ATTRIBUTE_NAMES, Attributes, measure};
use rayon::prelude::*;

use crate::atomic_file::write_atomically;
use crate::data::find_images;

/// The side faces are measured at: the layout the measurements assume (`facegan prepare`'s
/// crops), at the generator's size.
const SIZE: u32 = 64;

#[derive(Debug, Clone, clap::Args)]
pub struct MeasureArgs {
    /// Folder of face crops (as `facegan prepare` writes them), searched recursively.
    pub folder: PathBuf,
    /// Also write every file's measurements here (CSV).
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

pub fn run(args: &MeasureArgs) -> anyhow::Result<()> {
    let files = find_images(&args.folder)?;
    let measured: Vec<_> = files
        .par_iter()
        .map(|file| {
            let face = image::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?
                .resize_exact(SIZE, SIZE, image::imageops::FilterType::Triangle)
                .to_rgb8();
            Ok::<_, anyhow::Error>(measure(face.as_raw(), SIZE as usize))
        })
        .collect();
    let mut rows = Vec::new();
    let mut skipped = 0;
    for (file, result) in files.iter().zip(measured) {
        match result {
            Ok(attributes) => rows.push((file, attributes)),
            Err(error) => {
                log::warn!("skipped: {error:#}");
                skipped += 1;
            }
        }
    }
    anyhow::ensure!(
        !rows.is_empty(),
        "no readable faces in {}",
        args.folder.display()
    );
    for (part, name_of) in [
        (
            "hair",
            Attributes::hair_colour as fn(&Attributes) -> &'static str,
        ),
        ("eyes", Attributes::eye_colour),
    ] {
        let mut counts = BTreeMap::<&str, usize>::new();
        for (_, attributes) in &rows {
            *counts.entry(name_of(attributes)).or_default() += 1;
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        let shares: Vec<String> = counts
            .iter()
            .map(|(name, n)| format!("{name} {:.1}%", 100.0 * *n as f64 / rows.len() as f64))
            .collect();
        println!("{part}: {}", shares.join(", "));
    }
    println!(
        "{} faces measured, {skipped} unreadable skipped",
        rows.len()
    );
    if let Some(path) = &args.csv {
        let named = rows
            .iter()
            .map(|(file, a)| (file.display().to_string(), *a));
        write_csv(path, "file", named)?;
    }
    Ok(())
}

/// Writes measurements as CSV: a `key` column (file or seed), the attributes, the colour names.
pub fn write_csv(
    path: &Path,
    key: &str,
    rows: impl Iterator<Item = (String, Attributes)>,
) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec![key.to_string()];
    header.extend(ATTRIBUTE_NAMES.iter().map(|s| s.to_string()));
    header.extend(["hair_colour".into(), "eye_colour".into()]);
    writer.write_record(&header)?;
    for (name, a) in rows {
        let mut row = vec![name];
        row.extend(a.values().iter().map(|v| format!("{v:.3}")));
        row.extend([a.hair_colour().to_string(), a.eye_colour().to_string()]);
        writer.write_record(&row)?;
    }
    write_atomically(path, writer.into_inner()?)
}
