//! Waiting on a session's updates, for the in-process session tests.

use std::time::Duration;

use warroom::session::{Session, Update};

/// Waits for the first update `want` accepts; panics, listing what came instead, after `within`.
pub async fn wait_for(session: &mut Session, what: &str, within: Duration, want: impl Fn(&Update) -> bool) -> Update {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, session.recv()).await {
            Ok(Some(update)) if want(&update) => return update,
            Ok(Some(update)) => seen.push(format!("{update:?}").chars().take(120).collect::<String>()),
            _ => panic!("no {what} within {within:?}; saw {seen:#?}"),
        }
    }
}
