//! A session's part in mirroring: on the primary, the election of the one shipper and the
//! header lines saying how each mirror stands; on a mirror host, the line saying how the
//! primary stands.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;

use super::shipper::{self, Shared};
use super::status::{self, MirrorStatus, Shipping};
use crate::config::Mirror;
use crate::journal::{Sharing, dir};

pub struct Station {
    journal: PathBuf,
    sharing: Sharing,
    mirrors: Vec<Mirror>,
    config: Option<String>,
    may_ship: bool,
    /// Held while this session ships: the lock, the shippers and their statuses.
    shipping: Option<(std::fs::File, Vec<tokio::task::JoinHandle<()>>, Arc<Shared>)>,
    written: Vec<MirrorStatus>,
    /// When the record was last written: rewritten every [`status::RECORD_EVERY`] even
    /// unchanged, so the other sessions know the shipper is alive.
    written_at: Option<std::time::Instant>,
    /// Lines in the journal, counted as it grows (from `counted_to` bytes on), whether or
    /// not a mirror is reachable: the lag is against these.
    counted: usize,
    counted_to: u64,
    shown: Vec<String>,
    /// Why shipping could not start, said once.
    said: Option<String>,
}

impl Station {
    /// `may_ship`: this session writes the journal (viewers only show how mirrors stand).
    pub fn new(
        journal: &Path,
        sharing: &Sharing,
        mirrors: Vec<Mirror>,
        config: Option<String>,
        may_ship: bool,
    ) -> Station {
        Station {
            journal: journal.to_path_buf(),
            sharing: sharing.clone(),
            mirrors,
            config,
            may_ship,
            shipping: None,
            written: Vec::new(),
            written_at: None,
            counted: 0,
            counted_to: 0,
            shown: Vec::new(),
            said: None,
        }
    }

    /// Called on every watch of the session: takes up shipping if nobody ships, records the
    /// mirrors' statuses, and returns the lines to show when they changed. An error to say
    /// once comes as `Err`.
    pub fn tick(&mut self) -> Result<Option<Vec<String>>, String> {
        let failed = self.elect().err().filter(|e| self.said.as_ref() != Some(e));
        if let Some(e) = &failed {
            self.said = Some(e.clone());
        }
        let lines = self.lines();
        let changed = (lines != self.shown).then(|| {
            self.shown = lines.clone();
            lines
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(changed),
        }
    }

    fn elect(&mut self) -> Result<(), String> {
        if self.mirrors.is_empty() || !self.may_ship || self.shipping.is_some() {
            return Ok(());
        }
        let file =
            dir::open_lock(&status::shipper_lock_path(&self.journal), &self.sharing).map_err(|e| e.to_string())?;
        if file.try_lock().is_err() {
            return Ok(());
        }
        let ssh = crate::ssh::Ssh::from_env()?;
        let shared = Arc::new(Shared::default());
        *shared.statuses.lock().unwrap_or_else(|e| e.into_inner()) = self
            .mirrors
            .iter()
            .map(|m| MirrorStatus { name: m.destination.name.clone(), ..MirrorStatus::default() })
            .collect();
        let tasks = self
            .mirrors
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let ship =
                    shipper::ship(self.journal.clone(), m.clone(), ssh.clone(), self.config.clone(), i, shared.clone());
                tokio::spawn(ship)
            })
            .collect();
        self.shipping = Some((file, tasks, shared));
        Ok(())
    }

    /// The header's mirror lines: ours when shipping (recorded for the other sessions), else
    /// the shipper's file; and on a mirror host, the primary's.
    fn lines(&mut self) -> Vec<String> {
        let now = Utc::now();
        let statuses = match &self.shipping {
            Some((_, _, shared)) => {
                let shared = shared.clone();
                self.count_lines();
                let statuses = {
                    let mut statuses = shared.statuses.lock().unwrap_or_else(|e| e.into_inner());
                    statuses.iter_mut().for_each(|s| self.lag(s, now));
                    statuses.clone()
                };
                let stale = self.written_at.is_none_or(|t| t.elapsed() >= status::RECORD_EVERY);
                if statuses != self.written || stale {
                    let record = Shipping { at: now, mirrors: statuses.clone() };
                    let _ = status::write(&status::shipping_path(&self.journal), &record, &self.sharing);
                    self.written = statuses.clone();
                    self.written_at = Some(std::time::Instant::now());
                }
                statuses.iter().map(|s| s.line(now)).collect()
            }
            None if self.mirrors.is_empty() => Vec::new(),
            None => match status::read::<Shipping>(&status::shipping_path(&self.journal)) {
                Some(record) => {
                    self.count_lines();
                    record.lines_seen_by_others(self.counted, now)
                }
                None => Vec::new(),
            },
        };
        let mut lines: Vec<String> = statuses;
        if let Some(copy) = status::read_copy(&self.journal) {
            match status::read_promoted(&self.journal) {
                Some(p) => lines
                    .push(format!("promoted from mirror at {}: this journal is the primary now", p.at.format("%H:%M"))),
                None => lines.push(copy.line(now)),
            }
        }
        lines
    }
}

impl Station {
    fn count_lines(&mut self) {
        let Ok(file) = super::tail::open(&self.journal) else { return };
        if let Ok((more, end)) = super::tail::count_lines(&file, self.counted_to) {
            self.counted += more;
            self.counted_to = end;
        }
    }

    /// The mirror's lag against the lines counted: since when it has been behind, if it is.
    fn lag(&self, status: &mut MirrorStatus, now: chrono::DateTime<Utc>) {
        status.lines = self.counted;
        if status.acked_lines < self.counted {
            status.behind_since.get_or_insert(now);
        } else {
            status.behind_since = None;
        }
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        if let Some((_, tasks, _)) = self.shipping.take() {
            tasks.iter().for_each(tokio::task::JoinHandle::abort);
        }
    }
}
