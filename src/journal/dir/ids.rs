//! Who is who, for permission checks and messages: this process's ids, and user and group
//! names (thread-safe `_r` lookups; a name is sanitised, it may be anybody's text).

use std::ffi::CStr;

pub fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether this process has `gid` as its effective or a supplementary group.
pub(super) fn in_group(gid: u32) -> bool {
    // SAFETY: getegid cannot fail.
    if unsafe { libc::getegid() } == gid {
        return true;
    }
    let mut groups = vec![0 as libc::gid_t; 256];
    // SAFETY: the buffer holds `groups.len()` entries.
    let n = unsafe { libc::getgroups(groups.len() as libc::c_int, groups.as_mut_ptr()) };
    n > 0 && groups[..n as usize].contains(&gid)
}

/// The numeric id of a group name.
pub fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut group: libc::group = unsafe_zeroed();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: getgrnam_r fills `group` with pointers into `buf`, both outliving the call's use.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut group, buf.as_mut_ptr(), buf.len(), &mut found) };
    (rc == 0 && !found.is_null()).then_some(group.gr_gid)
}

/// The uid and primary gid of a user name.
pub fn user_id(name: &str) -> Option<(u32, u32)> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut pw: libc::passwd = unsafe_zeroed();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwnam_r fills `pw` with pointers into `buf`, both outliving the call's use.
    let rc = unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
    (rc == 0 && !found.is_null()).then_some((pw.pw_uid, pw.pw_gid))
}

/// A user's name for messages, or the number if it has none.
pub fn user_name(uid: u32) -> String {
    let mut pw: libc::passwd = unsafe_zeroed();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r fills `pw` with pointers into `buf`, read before either is dropped.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc == 0 && !found.is_null() {
        // SAFETY: a NUL-terminated string inside `buf`.
        return crate::sanitize::sanitize_str(&unsafe { CStr::from_ptr(pw.pw_name) }.to_string_lossy(), 64);
    }
    format!("uid {uid}")
}

/// A group's name for messages, or the number if it has none.
pub fn group_name(gid: u32) -> String {
    let mut gr: libc::group = unsafe_zeroed();
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: getgrgid_r fills `gr` with pointers into `buf`, read before either is dropped.
    let rc = unsafe { libc::getgrgid_r(gid, &mut gr, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc == 0 && !found.is_null() {
        // SAFETY: a NUL-terminated string inside `buf`.
        return crate::sanitize::sanitize_str(&unsafe { CStr::from_ptr(gr.gr_name) }.to_string_lossy(), 64);
    }
    format!("gid {gid}")
}

/// An all-zero C struct for the `_r` lookups to fill in.
fn unsafe_zeroed<T>() -> T {
    // SAFETY: only used for libc's plain C structs (passwd, group), for which zero is valid.
    unsafe { std::mem::zeroed() }
}
