//! `warroom agent`: serves a war room's checks on stdin/stdout (see [`crate::vantage::agent`]).

use std::process::ExitCode;

use crate::ssh::Timing;

pub fn run(allow_command: bool) -> anyhow::Result<ExitCode> {
    let runtime = super::current::runtime()?;
    let code = runtime.block_on(async {
        match crate::vantage::agent::serve(tokio::io::stdin(), tokio::io::stdout(), allow_command, Timing::default())
            .await
        {
            Ok(()) => Ok(ExitCode::SUCCESS),
            // The war room went (closed, silent): nothing to tell anyone, nobody to tell it to.
            Err(e) if e.is_transient() => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("warroom agent: {}", crate::sanitize::for_terminal(&e.to_string()));
                Ok(ExitCode::from(1))
            }
        }
    });
    // A war room gone silent leaves stdin open, and a read of it blocks a thread the
    // runtime would wait for: do not wait (the probes are tasks, dropped with it).
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}
