//! Who is writing: `user@host`, so every journal entry says who made it.

/// The login name and host of this process, e.g. `alice@bastion1`.
pub fn default_author() -> String {
    format!("{}@{}", login_name(), host_name())
}

/// The operating-system account of this process, `login@host`, from the real user id (not
/// `$USER`, which anyone can set): what the journal records beside the chosen author name.
/// Looked up once per process.
pub fn os_account() -> &'static str {
    static ACCOUNT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ACCOUNT.get_or_init(|| format!("{}@{}", account_name(), host_name()))
}

fn login_name() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(name) = std::env::var(var)
            && !name.trim().is_empty()
        {
            return name.trim().to_string();
        }
    }
    account_name()
}

fn account_name() -> String {
    // SAFETY: getuid cannot fail.
    super::dir::user_name(unsafe { libc::getuid() })
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success
    // (or truncates, which we handle by stopping at the first NUL or the end).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        if let Ok(name) = std::str::from_utf8(&buf[..end])
            && !name.is_empty()
        {
            return name.to_string();
        }
    }
    "localhost".to_string()
}
