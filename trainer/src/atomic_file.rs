//! Files replaced whole or not at all: written beside their final name, then renamed over it,
//! so an interrupted run never leaves a half-written config, log or weights file behind.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `bytes` to `PATH.tmp`, then renames it to `path`; errors name the file.
pub fn write_atomically(path: &Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    let temporary = PathBuf::from(name);
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
