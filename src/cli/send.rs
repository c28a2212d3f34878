//! `warroom send ITEM [--text TEXT]`: deliver a checklist item's message on its configured
//! channel and journal the outcome, as the screen's send does: the same delivery
//! ([`crate::comms::deliver`]), the same events, the same writer.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;

use crate::board::{Board, Clock};
use crate::checklist::Checklist;
use crate::cli::GlobalArgs;
use crate::cli::current::{self, Current, refuse, runtime};
use crate::journal::EventBody;
use crate::sanitize::sanitize_str;

/// `text`: the message as edited, instead of the item's template filled in; `-` reads it
/// from standard input.
pub fn run(global: &GlobalArgs, item_id: &str, text: Option<&str>, anyway: bool) -> anyhow::Result<ExitCode> {
    let current = current::open(global)?;
    let checklist = current::checklist(global, &current.config, &current.incident)?;
    let Some(item) = checklist.items.iter().find(|i| i.id == item_id) else {
        let ids: Vec<&str> = checklist.items.iter().filter(|i| i.template.is_some()).map(|i| i.id.as_str()).collect();
        return Err(refuse(format!(
            "checklist {} has no item \"{}\"; items with a message: {}",
            checklist.name,
            sanitize_str(item_id, 60),
            ids.join(", ")
        )));
    };
    let Some(channel) = item.channel.clone() else {
        return Err(refuse(format!("item {} names no channel to send on: copy its message instead", item.id)));
    };
    // The same filling-in as the screen's, with the same promise: a public message stating
    // its next-update time records that time, and it becomes every screen's deadline.
    let board = board(&current, &checklist);
    let prepared = board.prepared_message(item);
    let promised = prepared.as_ref().and_then(|p| p.next_update);
    let text = match text {
        Some("-") => {
            let mut edited = String::new();
            std::io::stdin().read_to_string(&mut edited).context("reading the message from standard input")?;
            edited.trim_end().to_string()
        }
        Some(edited) => edited.to_string(),
        None => prepared
            .map(|p| p.text)
            .ok_or_else(|| refuse(format!("item {} has no message template: give --text", item.id)))?,
    };
    // The screen asks before sending a prompt left unfilled; a command line cannot ask.
    let unfilled = crate::checklist::unfilled(item.template.as_deref().unwrap_or(""), &text);
    if !unfilled.is_empty() && !anyway {
        return Err(refuse(format!(
            "the message for {} still holds {}: fill it in (--text TEXT, or --text - to read it), \
             or send it as it stands with --yes",
            item.id,
            sanitize_str(&unfilled.join(" "), 200)
        )));
    }
    let next_update = board.promise_kept_in(promised, &text);
    if text.trim().is_empty() {
        return Err(refuse("the message is empty: nothing sent"));
    }
    let incident = &current.incident;
    let title = incident.title.clone().unwrap_or_default();
    let outgoing = crate::comms::Outgoing {
        channel: &channel,
        audience: item.audience,
        item: Some(&item.id),
        text: &text,
        next_update,
    };
    let bodies = runtime()?.block_on(crate::comms::deliver_outgoing(
        &current.config.channels,
        &outgoing,
        &title,
        incident.is_drill(),
    ));
    let failed = bodies.iter().find_map(|b| match b {
        EventBody::MessageSent { error: Some(e), .. } => Some(e.clone()),
        _ => None,
    });
    let ids = current.append(bodies)?;
    if let Some(why) = failed {
        anyhow::bail!(
            "not delivered on {}: {} (recorded as {})",
            sanitize_str(&channel, 60),
            sanitize_str(&why, 300),
            ids[0]
        );
    }
    let how = if incident.is_drill() { "recorded as sent (drill: nothing leaves this machine)" } else { "sent" };
    println!("{} {how} on {} ({})", item.id, sanitize_str(&channel, 60), ids[0]);
    Ok(ExitCode::SUCCESS)
}

/// The incident as the journal has it now, on the incident's clock (a drill's time in a
/// drill), for filling in the item's template.
fn board(current: &Current, checklist: &Checklist) -> Board {
    let clock = Clock { now: current.now(), ..Clock::system() };
    let mut board = Board::new(current.incident.clone(), Vec::new(), Some(checklist.clone()), clock);
    board.update_every = current.config.update_every;
    board.public_offset = current.config.public_offset;
    board
}
