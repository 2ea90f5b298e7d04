//! Files replaced whole or not at all: written to a temporary file beside their final name,
//! synced, then renamed over it, so an interrupted run never leaves a half-written config, log
//! or weights file behind.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` atomically (through `tempfile`'s persist); errors name the file.
pub fn write_atomically(path: &Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("cannot write beside {}", path.display()))?;
    file.write_all(bytes.as_ref())
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
