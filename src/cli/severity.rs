//! `warroom severity N`: set the severity to the level named, journaling only that level.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current;
use crate::journal::EventBody;

pub fn run(global: &GlobalArgs, severity: u8) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    if current.incident.severity == Some(severity) {
        eprintln!("warroom: the severity is already SEV{severity}; nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    let ids = current.append(vec![EventBody::SeverityChanged { severity }])?;
    println!("severity: SEV{severity} ({})", ids[0]);
    Ok(ExitCode::SUCCESS)
}
