//! `warroom init`: a commented example config that validates and runs as-is.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::FILE_NAME;

/// The example written by `warroom init`.
pub const TEMPLATE: &str = include_str!("init_template.toml");

pub fn run(dir: &Path, force: bool) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(FILE_NAME);
    if path.exists() && !force {
        anyhow::bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    std::fs::write(&path, TEMPLATE).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}; check it with `warroom validate -c {}`", path.display(), path.display());
    Ok(ExitCode::SUCCESS)
}
