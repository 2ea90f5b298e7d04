use std::path::{Path, PathBuf};

use image::RgbImage;

/// Why a file was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Zero bytes.
    Empty,
    /// Could not be read from disk.
    Unreadable,
    /// Not in any format the `image` crate knows.
    NotAnImage,
    /// A known format whose data is damaged or cut short.
    Corrupt,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Empty => "empty file",
            SkipReason::Unreadable => "unreadable",
            SkipReason::NotAnImage => "not an image",
            SkipReason::Corrupt => "corrupt or truncated",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: SkipReason,
    pub detail: String,
}

/// Every regular file under `dir`, sorted: the format is decided by content, not extension.
pub fn list_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    anyhow::ensure!(
        dir.is_dir(),
        "input folder {} does not exist or is not a folder",
        dir.display()
    );
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// Decodes one file to RGB8, ignoring any metadata (EXIF orientation included).
pub fn decode(path: &Path) -> Result<RgbImage, SkippedFile> {
    let skip = |reason, detail: String| SkippedFile {
        path: path.to_path_buf(),
        reason,
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| skip(SkipReason::Unreadable, e.to_string()))?;
    if bytes.is_empty() {
        return Err(skip(SkipReason::Empty, "0 bytes".into()));
    }
    let format =
        image::guess_format(&bytes).map_err(|e| skip(SkipReason::NotAnImage, e.to_string()))?;
    let image = image::load_from_memory_with_format(&bytes, format)
        .map_err(|e| skip(SkipReason::Corrupt, e.to_string()))?
        .to_rgb8();
    if image.width() == 0 || image.height() == 0 {
        return Err(skip(SkipReason::Corrupt, "no pixels".into()));
    }
    Ok(image)
}
