//! Files shipped inside the binary (checklists, drill scenarios, themes), so warroom needs
//! nothing on disk to run; a user's own file is named by its path instead.

use std::path::{Path, PathBuf};

/// The text of a built-in by name (with the path it has in the source tree, for messages),
/// or of the file at `name_or_path`. The error names the file and lists the built-ins.
pub fn find(
    built_in: &[(&str, &str)],
    folder: &str,
    name_or_path: &str,
) -> Result<(String, PathBuf), (PathBuf, String)> {
    if let Some((name, text)) = built_in.iter().find(|(n, _)| *n == name_or_path) {
        return Ok((text.to_string(), Path::new(folder).join(format!("{name}.toml"))));
    }
    let path = PathBuf::from(name_or_path);
    std::fs::read_to_string(&path).map(|text| (text, path.clone())).map_err(|e| {
        let names: Vec<&str> = built_in.iter().map(|(n, _)| *n).collect();
        (path, format!("cannot read it ({e}); built-in: {}", names.join(", ")))
    })
}
