//! The journals in a directory, as a lookup may consider them.

use std::path::{Path, PathBuf};

/// The `*.jsonl` regular files directly in `dir`, sorted by name (names start with the
/// opening time, so the newest sorts last). The type is the entry's own (`lstat`), never
/// what a link points at: in a shared journal directory a symlink or a FIFO named like a
/// journal is somebody's trap, not a journal.
pub fn journals_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    journals.sort();
    journals
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_regular_jsonl_files_count() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("2026-01-01T000000Z-a.jsonl"), "").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        std::fs::create_dir(d.join("drills.jsonl")).unwrap();
        std::os::unix::fs::symlink(d.join("notes.txt"), d.join("zz-link.jsonl")).unwrap();
        let fifo = std::ffi::CString::new(d.join("zz-fifo.jsonl").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(super::journals_in(d), vec![d.join("2026-01-01T000000Z-a.jsonl")]);
    }
}
