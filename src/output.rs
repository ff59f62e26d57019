//! Writing output files: atomically (a temporary file in the target directory, fsync, rename),
//! and readable by the owner only, since claims, remittances and findings carry PHI.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `target` atomically with mode 0600.
pub fn write_private(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error).with_context(|| format!("writing {}", target.display()))?;
    Ok(())
}
