//! What crosses a remote screen's link, one JSON line each, every line with the protocol
//! version ([`Versioned`]): down, the far side's setup and the session's updates; up, the
//! screen's [`Command`](crate::session::Command)s as they are.
//!
//! Live readings are the bulk (fifty checks every ten seconds): the far side gathers them for
//! [`GATHER`] and packs them ([`Packer`]): rows by number, times in milliseconds, latencies
//! to a tenth of a millisecond, and a detail or the names of the steps only when they
//! changed. The screen shows no more than that.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checklist::{self, Checklist};
use crate::monitor::RowId;
use crate::probe::Health;
use crate::session::{Reading, Update, Versioned};

/// How long the far side gathers readings before sending them: the screen draws readings
/// once a second at most, and a check's own interval is ten seconds or more.
pub const GATHER: Duration = Duration::from_secs(5);

/// From the far side to the screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Down {
    /// The first message: what the screen needs of the far host's config.
    Setup(FarSetup),
    Update(Update),
    /// Rows that packed readings name by number from now on, numbered on from the last.
    Rows(Vec<RowId>),
    Readings(Vec<Packed>),
}

pub type DownLine = Versioned<Down>;
pub type UpLine = Versioned<crate::session::Command>;

/// The far war room's own setup: its checklist (the items, their templates and channels are
/// the far host's), the public cadence and time zone. The theme and keys stay this host's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarSetup {
    /// The checklist's TOML and where it was found there; parsed (and so checked) here.
    pub checklist: Option<ChecklistSource>,
    pub update_every: Option<Duration>,
    pub public_offset_secs: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistSource {
    pub path: String,
    pub text: String,
}

impl ChecklistSource {
    /// A built-in checklist by name, or a file, as `checklist::load` finds it.
    pub fn find(name_or_path: &str) -> Result<ChecklistSource, String> {
        let (text, path) = crate::builtin::find(checklist::BUILT_IN, "checklists", name_or_path)
            .map_err(|(file, message)| format!("{}: checklist: {message}", file.display()))?;
        Ok(ChecklistSource { path: path.display().to_string(), text })
    }

    pub fn parse(&self, dest: &str) -> Result<Checklist, String> {
        let shown = format!("{dest}:{}", self.path);
        checklist::parse(&self.text, std::path::Path::new(&shown)).map_err(|e| e.to_string())
    }
}

/// One reading, packed. Fields left out are as in the row's previous reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Packed {
    /// The row's number (see [`Down::Rows`]).
    pub r: u32,
    /// When, in milliseconds since the epoch.
    pub t: i64,
    pub h: Health,
    /// Latency in tenths of a millisecond.
    pub l: u64,
    /// The detail, when it differs from the row's previous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// The steps' durations, in tenths of a millisecond.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s: Vec<u64>,
    /// The steps' names, when they differ from the row's previous ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<i64>,
}

/// What both sides remember of a row to pack the next reading against.
#[derive(Default, Clone)]
struct Last {
    detail: String,
    names: Vec<String>,
}

fn tenths(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 { (ms * 10.0).round().min(u64::MAX as f64) as u64 } else { 0 }
}

/// The far side's half: numbers rows, packs readings against the previous ones.
#[derive(Default)]
pub struct Packer {
    numbers: HashMap<RowId, u32>,
    last: Vec<Last>,
    new_rows: Vec<RowId>,
    packed: Vec<Packed>,
}

impl Packer {
    pub fn push(&mut self, row: &RowId, reading: &Reading) {
        let r = match self.numbers.get(row) {
            Some(&r) => r,
            None => {
                let r = self.last.len() as u32;
                self.numbers.insert(row.clone(), r);
                self.last.push(Last::default());
                self.new_rows.push(row.clone());
                r
            }
        };
        let last = &mut self.last[r as usize];
        let names: Vec<String> = reading.steps.iter().map(|(n, _)| n.clone()).collect();
        let packed = Packed {
            r,
            t: reading.at.timestamp_millis(),
            h: reading.health,
            l: tenths(reading.latency_ms),
            d: (reading.detail != last.detail).then(|| reading.detail.clone()),
            s: reading.steps.iter().map(|(_, ms)| tenths(*ms)).collect(),
            n: (names != last.names).then(|| names.clone()),
            retry: reading.retry_after,
            cert: reading.cert_days_left,
        };
        last.detail = reading.detail.clone();
        last.names = names;
        self.packed.push(packed);
    }

    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    /// What to send: the new rows' numbers first, then the readings.
    pub fn take(&mut self) -> Vec<Down> {
        let rows = std::mem::take(&mut self.new_rows);
        let readings = std::mem::take(&mut self.packed);
        let rows = (!rows.is_empty()).then_some(Down::Rows(rows));
        rows.into_iter().chain((!readings.is_empty()).then_some(Down::Readings(readings))).collect()
    }
}

/// The screen's half: the readings back, as the session gave them (to the precision kept).
#[derive(Default)]
pub struct Unpacker {
    rows: Vec<(RowId, Last)>,
}

/// The most rows a far side may number: as many as a journal could name and then some. A
/// far side that numbers more is broken or hostile, and its link is dropped.
const MAX_ROWS: usize = 100_000;

impl Unpacker {
    pub fn rows(&mut self, rows: Vec<RowId>) -> Result<(), String> {
        if self.rows.len() + rows.len() > MAX_ROWS {
            return Err(format!("more than {MAX_ROWS} rows numbered"));
        }
        self.rows.extend(rows.into_iter().map(|id| (id, Last::default())));
        Ok(())
    }

    pub fn unpack(&mut self, packed: Packed) -> Result<Update, String> {
        let (row, last) = self.rows.get_mut(packed.r as usize).ok_or_else(|| format!("row {} unknown", packed.r))?;
        if let Some(detail) = packed.d {
            last.detail = detail;
        }
        if let Some(names) = packed.n {
            last.names = names;
        }
        if last.names.len() != packed.s.len() {
            return Err(format!("{} step durations for {} step names", packed.s.len(), last.names.len()));
        }
        let at = DateTime::from_timestamp_millis(packed.t).ok_or_else(|| format!("time {} out of range", packed.t))?;
        let reading = Reading {
            at,
            health: packed.h,
            latency_ms: packed.l as f64 / 10.0,
            detail: last.detail.clone(),
            retry_after: packed.retry,
            steps: last.names.iter().cloned().zip(packed.s.iter().map(|&s| s as f64 / 10.0)).collect(),
            cert_days_left: packed.cert,
        };
        Ok(Update::Reading { row: row.clone(), reading })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(at_ms: i64, latency_ms: f64, detail: &str, steps: &[(&str, f64)]) -> Reading {
        Reading {
            at: DateTime::from_timestamp_millis(at_ms).unwrap(),
            health: Health::Up,
            latency_ms,
            detail: detail.into(),
            retry_after: None,
            steps: steps.iter().map(|(n, ms)| (n.to_string(), *ms)).collect(),
            cert_days_left: Some(40),
        }
    }

    fn round_trip(sent: &[(RowId, Reading)]) -> Vec<Update> {
        let mut packer = Packer::default();
        sent.iter().for_each(|(row, r)| packer.push(row, r));
        let mut unpacker = Unpacker::default();
        let mut got = Vec::new();
        for down in packer.take() {
            // Through JSON, as on the link.
            let line = serde_json::to_string(&Versioned::new(down)).unwrap();
            match serde_json::from_str::<DownLine>(&line).unwrap().open().unwrap() {
                Down::Rows(rows) => unpacker.rows(rows).unwrap(),
                Down::Readings(packed) => got.extend(packed.into_iter().map(|p| unpacker.unpack(p).unwrap())),
                other => panic!("{other:?}"),
            }
        }
        got
    }

    #[test]
    fn readings_come_back_as_sent_to_a_tenth_of_a_millisecond() {
        let (web, mail) = (RowId::check("web"), RowId::check("mail"));
        let steps = [("dns", 0.42), ("connect", 1.26), ("first byte", 7.04)];
        let sent = vec![
            (web.clone(), reading(1_700_000_000_123, 8.72, "200 OK", &steps)),
            (mail.clone(), reading(1_700_000_000_200, 3.0, "250 ok", &[])),
            (web.clone(), reading(1_700_000_010_123, 9.04, "200 OK", &steps)),
            (web.clone(), reading(1_700_000_020_123, 0.0, "503 Service Unavailable", &steps[..1])),
        ];
        let got = round_trip(&sent);
        let expected: Vec<Update> = sent
            .iter()
            .map(|(row, r)| {
                let mut r = r.clone();
                r.latency_ms = (r.latency_ms * 10.0).round() / 10.0;
                r.steps.iter_mut().for_each(|(_, ms)| *ms = (*ms * 10.0).round() / 10.0);
                Update::Reading { row: row.clone(), reading: r }
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_steady_row_sends_no_detail_nor_step_names_again() {
        let web = RowId::check("web");
        let mut packer = Packer::default();
        let steps = [("dns", 0.4), ("connect", 1.2)];
        packer.push(&web, &reading(1, 8.0, "200 OK", &steps));
        packer.push(&web, &reading(2, 8.0, "200 OK", &steps));
        let Some(Down::Readings(packed)) = packer.take().pop() else { panic!() };
        assert!(packed[0].d.is_some() && packed[0].n.is_some());
        assert_eq!((&packed[1].d, &packed[1].n), (&None, &None));
        let second = serde_json::to_string(&packed[1]).unwrap();
        assert_eq!(second, r#"{"r":0,"t":2,"h":"up","l":80,"s":[4,12],"cert":40}"#);
    }

    #[test]
    fn a_reading_for_an_unknown_row_or_with_steps_missing_is_an_error() {
        let mut unpacker = Unpacker::default();
        let packed = Packed { r: 3, t: 0, h: Health::Up, l: 0, d: None, s: vec![], n: None, retry: None, cert: None };
        assert!(unpacker.unpack(packed.clone()).unwrap_err().contains("row 3 unknown"));
        unpacker.rows(vec![RowId::check("a"); 4]).unwrap();
        let odd = Packed { s: vec![1], ..packed };
        assert!(unpacker.unpack(odd).unwrap_err().contains("1 step durations for 0 step names"));
    }
}
