//! Files replaced whole or not at all: written to a temporary file beside their final name,
//! synced, then renamed over it, so an interrupted run never leaves a half-written config, log
//! or weights file behind.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The ending of a file being written: `.NAME.XXXXXX.partial` beside `NAME`. A process killed
/// mid-write leaves one behind; [`remove_leftovers`] clears them when a run starts.
const PARTIAL: &str = ".partial";

/// Writes `bytes` to `path` atomically (through `tempfile`'s persist); errors name the file.
pub fn write_atomically(path: &Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(PARTIAL);
    // tempfile makes its files readable by the owner only; these are ordinary outputs (a web
    // server must read exported weights), so ask for what `File::create` gives: 0o666 less
    // the umask.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder
        .tempfile_in(folder)
        .with_context(|| format!("cannot write beside {}", path.display()))?;
    file.write_all(bytes.as_ref())
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Removes the half-written files an interrupted [`write_atomically`] left in `folder` (never
/// a finished file: those are renamed to their final names). Returns how many it removed.
pub fn remove_leftovers(folder: &Path) -> anyhow::Result<usize> {
    let mut removed = 0;
    let entries =
        std::fs::read_dir(folder).with_context(|| format!("cannot read {}", folder.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", folder.display()))?
            .path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') && name.ends_with(PARTIAL) && path.is_file() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_written_file_gets_the_permissions_of_a_created_one() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().expect("temp dir");
        let written = folder.path().join("weights.fgw");
        write_atomically(&written, b"x").unwrap();
        let created = folder.path().join("created");
        std::fs::File::create(&created).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&written), mode(&created));
    }

    #[test]
    fn leftovers_of_interrupted_writes_are_removed_and_finished_files_kept() {
        let folder = tempfile::tempdir().expect("temp dir");
        write_atomically(&folder.path().join("checkpoint.fgc"), b"whole").expect("write");
        // What a write killed before its rename leaves behind, and files that only look alike.
        std::fs::write(
            folder.path().join(".checkpoint.fgc.a1B2c3.partial"),
            b"half",
        )
        .unwrap();
        std::fs::write(folder.path().join("notes.partial"), b"mine").unwrap();
        assert_eq!(remove_leftovers(folder.path()).expect("clean"), 1);
        let mut names: Vec<String> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["checkpoint.fgc", "notes.partial"]);
        assert_eq!(
            std::fs::read(folder.path().join("checkpoint.fgc")).unwrap(),
            b"whole"
        );
    }
}
