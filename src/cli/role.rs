//! `warroom role ROLE PERSON`: assign a role, or hand it over.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::cli::current::{self, plain_name};
use crate::sanitize::sanitize_str;

/// The roles every incident has; any other name is a named expert's role ("dns", "database").
pub const STANDARD: [&str; 4] = crate::commands::ROLES;

pub fn run(global: &GlobalArgs, role: &str, person: &str) -> anyhow::Result<ExitCode> {
    let role = plain_name("role", &role.to_lowercase(), 40)?;
    let person = plain_name("person", person, 80)?;
    if !STANDARD.contains(&role.as_str()) {
        // Kept as a named expert's role; said, so that a typo ("comander") is seen at once.
        eprintln!(
            "warroom: note: \"{}\" is not one of {}: recorded as a named expert's role",
            sanitize_str(&role, 40),
            STANDARD.join(", ")
        );
    }
    let current = current::open(global)?;
    let incident = &current.incident;
    // A person is named by the author string their entries carry (the login name the screens
    // show finds it); a name nobody has written under yet is allowed (they may not have
    // joined), but worth a word.
    let person = match incident.person(&person) {
        Some(known) => known.to_string(),
        None => {
            eprintln!("warroom: note: nobody has written to this incident as \"{}\" yet", sanitize_str(&person, 80));
            person
        }
    };
    let Some(body) = crate::commands::assign_role(incident, &role, &person).map_err(current::refuse)? else {
        eprintln!("warroom: {} is already {role}; nothing written", sanitize_str(&person, 80));
        return Ok(ExitCode::SUCCESS);
    };
    let from = incident.role(&role).map(str::to_string);
    let ids = current.append(vec![body])?;
    match from {
        Some(from) => println!(
            "{role}: handed over from {} to {} ({})",
            sanitize_str(&from, 80),
            sanitize_str(&person, 80),
            ids[0]
        ),
        None => println!("{role}: {} ({})", sanitize_str(&person, 80), ids[0]),
    }
    Ok(ExitCode::SUCCESS)
}
