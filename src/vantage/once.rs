//! Every vantage's checks probed once, for `warroom check`: one link per vantage, at the
//! same time, each agent asked to probe once and say when it is done.

use std::collections::BTreeMap;
use std::time::Duration;

use super::agent::{ALLOW_COMMAND, VERB};
use super::wire::{FromAgent, Sample, ToAgent, safe_name};
use super::{Plan, VantageDef};
use crate::ssh::{Link, Ssh};

/// What one place said of one check: its result, or why there is none (unreachable, refused).
pub type PlaceResult = Result<Sample, String>;

/// Each vantage's results, by vantage then check. A vantage that could not be reached, or
/// did not answer within `within`, has every one of its checks' result be that error.
pub async fn probe_all(
    plan: &Plan,
    canary: Option<&str>,
    ssh: &Ssh,
    within: Duration,
) -> BTreeMap<String, BTreeMap<String, PlaceResult>> {
    let runs = plan.vantages.iter().map(|v| async move {
        let checks: Vec<String> =
            plan.placements.iter().filter(|(_, p)| p.from.contains(&v.name)).map(|(n, _)| n.clone()).collect();
        if checks.is_empty() {
            return (v.name.clone(), BTreeMap::new());
        }
        let config = plan.agent_config(&v.name, canary);
        let results = match tokio::time::timeout(within, one(v, ssh, config)).await {
            Ok(Ok(results)) => results,
            Ok(Err(e)) => checks.iter().map(|c| (c.clone(), Err(e.clone()))).collect(),
            Err(_) => checks.iter().map(|c| (c.clone(), Err(format!("no answer within {within:?}")))).collect(),
        };
        let mut results: BTreeMap<String, PlaceResult> = results;
        for c in checks {
            results.entry(c).or_insert_with(|| Err("the agent did not report it".into()));
        }
        (v.name.clone(), results)
    });
    futures::future::join_all(runs).await.into_iter().collect()
}

async fn one(v: &VantageDef, ssh: &Ssh, config: String) -> Result<BTreeMap<String, PlaceResult>, String> {
    let args: Vec<String> = if v.allow_command { vec![ALLOW_COMMAND.into()] } else { Vec::new() };
    let mut link = Link::open(ssh, &v.destination(), VERB, &args).await.map_err(|e| e.to_string())?;
    let setup = ToAgent::Setup { config, recorded: BTreeMap::new(), once: true };
    link.writer.send(&setup).await.map_err(|e| e.to_string())?;
    let mut results = BTreeMap::new();
    loop {
        match link.reader.next::<FromAgent>("reading the agent's results").await.map_err(|e| e.to_string())? {
            Some(FromAgent::Sample(s)) => {
                results.insert(safe_name(&s.check), Ok(s));
            }
            Some(FromAgent::Refused { check, reason }) => {
                results.insert(
                    safe_name(&check),
                    Err(format!("refused: {}", crate::sanitize::sanitize_str(&reason, 200))),
                );
            }
            Some(FromAgent::Failed { error }) => return Err(crate::sanitize::sanitize_str(&error, 400)),
            Some(FromAgent::Done {}) | None => break,
            Some(_) => {}
        }
    }
    let Link { writer, process, .. } = link;
    drop(writer);
    process.close(Duration::from_secs(2)).await;
    Ok(results)
}
