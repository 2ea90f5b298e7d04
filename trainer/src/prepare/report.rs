use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use super::{SkipReason, SkippedFile};

/// What `prepare` did; also saved as `DATA_DIR/prepare-report.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub input: PathBuf,
    pub output: PathBuf,
    pub dry_run: bool,
    pub files_found: usize,
    pub decoded: usize,
    pub skipped_by_reason: BTreeMap<SkipReason, usize>,
    pub skipped: Vec<SkippedFile>,
    pub exact_duplicates_removed: usize,
    pub exact_duplicate_groups: Vec<Vec<String>>,
    pub near_threshold: u32,
    pub near_duplicates_removed: usize,
    pub near_duplicate_clusters: Vec<Vec<String>>,
    pub images_kept: usize,
    pub face_detection: bool,
    pub faces_found: usize,
    pub images_without_face: usize,
    pub files_written: usize,
    pub seconds: f64,
    pub images_per_second: f64,
}

impl Report {
    /// The human-readable account printed at the end of a run.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run { "would write" } else { "wrote" };
        let _ = writeln!(
            out,
            "prepare {} -> {}",
            self.input.display(),
            self.output.display()
        );
        let _ = writeln!(out, "  files found:            {}", self.files_found);
        let _ = writeln!(out, "  decoded:                {}", self.decoded);
        for (reason, count) in &self.skipped_by_reason {
            let _ = writeln!(out, "  skipped ({}): {count}", reason.describe());
        }
        for skip in &self.skipped {
            let _ = writeln!(out, "    {}: {}", skip.path.display(), skip.detail);
        }
        let _ = writeln!(
            out,
            "  exact duplicates:       {} removed in {} groups",
            self.exact_duplicates_removed,
            self.exact_duplicate_groups.len()
        );
        let _ = writeln!(
            out,
            "  near duplicates:        {} removed in {} clusters (Hamming <= {} of 256 bits)",
            self.near_duplicates_removed,
            self.near_duplicate_clusters.len(),
            self.near_threshold
        );
        if self.dry_run {
            for cluster in self.near_duplicate_clusters.iter().take(20) {
                let _ = writeln!(out, "    keep one of: {}", cluster.join(", "));
            }
        }
        let _ = writeln!(out, "  images kept:            {}", self.images_kept);
        if self.face_detection {
            let _ = writeln!(
                out,
                "  faces found:            {} ({} images without a face)",
                self.faces_found, self.images_without_face
            );
        }
        let _ = writeln!(
            out,
            "  {verb} {} images in {:.1} s ({:.0} input files/s)",
            self.files_written, self.seconds, self.images_per_second
        );
        out
    }
}
