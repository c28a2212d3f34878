//! What crosses a remote screen's link, one JSON line each, every line with the protocol
//! version ([`Versioned`]): down, the far side's setup and the session's updates; up, the
//! screen's [`Command`](crate::session::Command)s as they are.
//!
//! Live readings are the bulk (fifty checks every ten seconds): the far side gathers them for
//! [`GATHER`] and packs them ([`Packer`]): rows by number, times to the second and latencies
//! to the millisecond as the screen shows them (steps to the tenth), the detail as an edit of
//! the row's previous one, step names and certificate days only when they change.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checklist::{self, Checklist};
use crate::monitor::RowId;
use crate::probe::Health;
use crate::session::{Reading, Update, Versioned};

/// How long the far side gathers readings before sending them: a check's own interval is
/// ten seconds or more, and a change of state is sent at once, not gathered.
pub const GATHER: Duration = Duration::from_secs(10);

/// From the far side to the screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Down {
    /// The first message: what the screen needs of the far host's config.
    Setup(FarSetup),
    Update(Update),
    /// Rows that packed readings name by number from now on, numbered on from the last.
    Rows(Vec<RowId>),
    Readings(Batch),
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
    /// Which config the far side runs on, said on the screen: a war room with no checks and
    /// no channels because its config was not found there must not look like a quiet one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<FarConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarConfig {
    /// Where it was found; `None`: none was, the defaults run.
    pub path: Option<String>,
    pub checks: usize,
    pub channels: usize,
}

impl FarConfig {
    /// The line the screen shows, sanitised (the path is the far host's words).
    pub fn describe(&self, dest: &str) -> String {
        let dest = crate::sanitize::sanitize_str(dest, 60);
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let counts = format!("{}, {}", plural(self.checks, "check"), plural(self.channels, "channel"));
        match &self.path {
            Some(path) => format!("{dest}: config {} ({counts})", crate::sanitize::sanitize_str(path, 120)),
            None => format!("{dest}: no config found there, defaults run ({counts}): name one with --remote-config"),
        }
    }
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

    /// The far host's checklist, its names and titles made safe to draw (they are the far
    /// host's words: a bidi override in a name would reach the pane's title raw).
    pub fn parse(&self, dest: &str) -> Result<Checklist, String> {
        use crate::sanitize::{for_terminal, sanitize_str};
        let shown = format!("{dest}:{}", sanitize_str(&self.path, 200));
        let mut list = checklist::parse(&self.text, std::path::Path::new(&shown)).map_err(|e| e.to_string())?;
        list.name = sanitize_str(&list.name, 100);
        list.description = for_terminal(&list.description);
        for item in &mut list.items {
            item.title = sanitize_str(&item.title, 300);
            item.hint = item.hint.as_deref().map(for_terminal);
        }
        Ok(list)
    }
}

/// One reading, packed as a JSON array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Packed {
    Full(Full),
    /// An up reading of a row nobody inspects: `[row, seconds after the batch's time, whole
    /// milliseconds]`. Its detail and steps are left empty: the screen shows them only in a
    /// row's details, and an inspected row's readings come in full.
    Lean(u32, u32, u64),
}

/// `[row, seconds after the batch's time, health, whole milliseconds, detail, step tenths of
/// a millisecond, extra]`. The screen shows readings to the second and the millisecond (steps
/// to the tenth), and no more is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Full(
    /// The row's number (see [`Down::Rows`]).
    pub u32,
    pub u32,
    /// 0 up, 1 degraded, 2 down.
    pub u8,
    pub u64,
    /// The detail as a change to the row's previous one; `None` when the same.
    pub Option<Edit>,
    pub Vec<u64>,
    /// What rarely changes, when it does.
    pub Option<Extra>,
);

/// A text as an edit of the previous one: keep `0` bytes at the start and `1` at the end,
/// put `2` between ("HTTP 200 OK in 11 ms" after "… in 9 ms" is `[15, 3, "11"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit(pub usize, pub usize, pub String);

impl Edit {
    fn between(old: &str, new: &str) -> Edit {
        let prefix = old
            .char_indices()
            .zip(new.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((_, a), _)| a.len_utf8())
            .sum::<usize>();
        let rest_old = &old[prefix..];
        let rest_new = &new[prefix..];
        let suffix = rest_old
            .chars()
            .rev()
            .zip(rest_new.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        Edit(prefix, suffix, rest_new[..rest_new.len() - suffix].to_string())
    }

    fn apply(&self, old: &str) -> Result<String, String> {
        let Edit(prefix, suffix, middle) = self;
        let fits = prefix.checked_add(*suffix).is_some_and(|kept| kept <= old.len())
            && old.is_char_boundary(*prefix)
            && old.is_char_boundary(old.len() - suffix);
        if !fits {
            return Err(format!("an edit keeping {prefix}+{suffix} bytes of a {}-byte detail", old.len()));
        }
        Ok(format!("{}{middle}{}", &old[..*prefix], &old[old.len() - suffix..]))
    }
}

/// A reading's rarely changing parts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Extra {
    /// The steps' names, when they differ from the row's previous ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<DateTime<Utc>>,
    /// Days the certificate has left, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<Option<i64>>,
}

/// Readings gathered for a while: `at`, seconds since the epoch, is the first one's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub at: i64,
    pub r: Vec<Packed>,
}

/// What both sides remember of a row to pack the next reading against.
#[derive(Default, Clone)]
struct Last {
    detail: String,
    names: Vec<String>,
    cert: Option<i64>,
}

fn tenths(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 { (ms * 10.0).round().min(u64::MAX as f64) as u64 } else { 0 }
}

fn health_code(health: Health) -> u8 {
    match health {
        Health::Up => 0,
        Health::Degraded => 1,
        Health::Down => 2,
    }
}

fn health_of(code: u8) -> Result<Health, String> {
    match code {
        0 => Ok(Health::Up),
        1 => Ok(Health::Degraded),
        2 => Ok(Health::Down),
        other => Err(format!("health {other} unknown")),
    }
}

/// The far side's half: numbers rows, packs readings against the previous ones.
#[derive(Default)]
pub struct Packer {
    numbers: HashMap<RowId, u32>,
    last: Vec<Last>,
    new_rows: Vec<RowId>,
    at: Option<i64>,
    packed: Vec<Packed>,
}

impl Packer {
    /// Packs a reading; `inspected`: in full even while up.
    pub fn push(&mut self, row: &RowId, reading: &Reading, inspected: bool) {
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
        let at = *self.at.get_or_insert(reading.at.timestamp());
        let names: Vec<String> = reading.steps.iter().map(|(n, _)| n.clone()).collect();
        let extra = Extra {
            names: (names != last.names).then(|| names.clone()),
            retry: reading.retry_after,
            cert: (reading.cert_days_left != last.cert).then_some(reading.cert_days_left),
        };
        let t = reading.at.timestamp().saturating_sub(at).clamp(0, u32::MAX as i64) as u32;
        // Whole milliseconds, as the screen shows them (`Duration::as_millis` truncates).
        let ms = reading.latency().as_millis().min(u64::MAX as u128) as u64;
        if !inspected && reading.health == Health::Up && extra == Extra::default() {
            self.packed.push(Packed::Lean(r, t, ms));
            return;
        }
        let packed = Packed::Full(Full(
            r,
            t,
            health_code(reading.health),
            ms,
            (reading.detail != last.detail).then(|| Edit::between(&last.detail, &reading.detail)),
            reading.steps.iter().map(|(_, ms)| tenths(*ms)).collect(),
            (extra != Extra::default()).then_some(extra),
        ));
        last.detail = reading.detail.clone();
        last.names = names;
        last.cert = reading.cert_days_left;
        self.packed.push(packed);
    }

    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    /// What to send: the new rows' numbers first, then the readings.
    pub fn take(&mut self) -> Vec<Down> {
        let rows = std::mem::take(&mut self.new_rows);
        let readings = std::mem::take(&mut self.packed);
        let at = self.at.take().unwrap_or_default();
        let rows = (!rows.is_empty()).then_some(Down::Rows(rows));
        rows.into_iter().chain((!readings.is_empty()).then_some(Down::Readings(Batch { at, r: readings }))).collect()
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

    pub fn unpack(&mut self, at: i64, packed: Packed) -> Result<Update, String> {
        let (r, t, h, l, detail, steps, extra) = match packed {
            Packed::Full(Full(r, t, h, l, detail, steps, extra)) => (r, t, h, l, detail, steps, extra),
            Packed::Lean(r, t, l) => return self.lean(at, r, t, l),
        };
        let (row, last) = self.rows.get_mut(r as usize).ok_or_else(|| format!("row {r} unknown"))?;
        if let Some(edit) = detail {
            last.detail = edit.apply(&last.detail)?;
        }
        let extra = extra.unwrap_or_default();
        if let Some(names) = extra.names {
            last.names = names;
        }
        if let Some(cert) = extra.cert {
            last.cert = cert;
        }
        if last.names.len() != steps.len() {
            return Err(format!("{} step durations for {} step names", steps.len(), last.names.len()));
        }
        let reading = Reading {
            at: time(at, t)?,
            health: health_of(h)?,
            latency_ms: l.min(MAX_LATENCY_MS) as f64,
            detail: last.detail.clone(),
            retry_after: extra.retry,
            steps: last.names.iter().cloned().zip(steps.iter().map(|&s| s as f64 / 10.0)).collect(),
            cert_days_left: last.cert.map(bounded_cert_days),
        };
        Ok(Update::Reading { row: row.clone(), reading })
    }

    fn lean(&mut self, at: i64, r: u32, t: u32, ms: u64) -> Result<Update, String> {
        let (row, last) = self.rows.get(r as usize).ok_or_else(|| format!("row {r} unknown"))?;
        let reading = Reading {
            at: time(at, t)?,
            health: Health::Up,
            latency_ms: ms.min(MAX_LATENCY_MS) as f64,
            detail: String::new(),
            retry_after: None,
            steps: Vec::new(),
            cert_days_left: last.cert.map(bounded_cert_days),
        };
        Ok(Update::Reading { row: row.clone(), reading })
    }
}

/// The longest latency shown, as packed: a day (no probe waits that long; more is the far
/// side's nonsense, not a measurement).
pub const MAX_LATENCY_MS: u64 = crate::probe::MAX_MILLIS as u64;
/// Certificate days beyond a hundred years either way are shown as a hundred years.
pub const MAX_CERT_DAYS: i64 = 36_525;

pub fn bounded_cert_days(days: i64) -> i64 {
    days.clamp(-MAX_CERT_DAYS, MAX_CERT_DAYS)
}

/// A reading from the far side with its figures in bounds.
pub fn bounded_reading(mut reading: Reading) -> Reading {
    use crate::probe::bounded_millis;
    reading.latency_ms = bounded_millis(reading.latency_ms);
    reading.steps.iter_mut().for_each(|(_, ms)| *ms = bounded_millis(*ms));
    reading.cert_days_left = reading.cert_days_left.map(bounded_cert_days);
    reading
}

/// An update from the far side with what it shows in bounds: severities 1 to 5, latencies
/// within a day, certificate days within a hundred years.
pub fn bounded(update: Update) -> Update {
    match update {
        Update::Reading { row, reading } => Update::Reading { row, reading: bounded_reading(reading) },
        Update::Figures(mut figures) => {
            for f in &mut figures {
                f.readings = std::mem::take(&mut f.readings).into_iter().map(bounded_reading).collect();
            }
            Update::Figures(figures)
        }
        Update::Entries(entries) => Update::Entries(bounded_entries(entries)),
        Update::Opened { journal, role, rows, entries } => {
            Update::Opened { journal, role, rows, entries: bounded_entries(entries) }
        }
        other => other,
    }
}

/// Entries with their severities within 1 to 5.
pub fn bounded_entries(mut entries: Vec<crate::journal::Event>) -> Vec<crate::journal::Event> {
    use crate::journal::EventBody;
    for e in &mut entries {
        if let EventBody::IncidentOpened { severity, .. } | EventBody::SeverityChanged { severity } = &mut e.body {
            *severity = (*severity).clamp(1, 5);
        }
    }
    entries
}

fn time(at: i64, after: u32) -> Result<DateTime<Utc>, String> {
    let seconds = at.checked_add(after as i64).ok_or("time out of range")?;
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("time {seconds} out of range"))
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
        sent.iter().for_each(|(row, r)| packer.push(row, r, true));
        let mut unpacker = Unpacker::default();
        let mut got = Vec::new();
        for down in packer.take() {
            // Through JSON, as on the link.
            let line = serde_json::to_string(&Versioned::new(down)).unwrap();
            match serde_json::from_str::<DownLine>(&line).unwrap().open().unwrap() {
                Down::Rows(rows) => unpacker.rows(rows).unwrap(),
                Down::Readings(batch) => got.extend(batch.r.into_iter().map(|p| unpacker.unpack(batch.at, p).unwrap())),
                other => panic!("{other:?}"),
            }
        }
        got
    }

    #[test]
    fn readings_come_back_as_the_screen_shows_them() {
        let (web, mail) = (RowId::check("web"), RowId::check("mail"));
        let steps = [("dns", 0.42), ("connect", 1.26), ("first byte", 7.04)];
        let sent = vec![
            (web.clone(), reading(1_700_000_000_123, 8.72, "HTTP 200 OK in 8.7 ms", &steps)),
            (mail.clone(), reading(1_700_000_000_200, 3.0, "250 ok", &[])),
            (web.clone(), reading(1_700_000_010_923, 19.04, "HTTP 200 OK in 19 ms", &steps)),
            (web.clone(), reading(1_700_000_020_123, 0.0, "connect: réseau injoignable", &steps[..1])),
        ];
        let got = round_trip(&sent);
        let expected: Vec<Update> = sent
            .iter()
            .map(|(row, r)| {
                let mut r = r.clone();
                r.at = DateTime::from_timestamp(r.at.timestamp(), 0).unwrap();
                r.latency_ms = r.latency_ms.floor();
                r.steps.iter_mut().for_each(|(_, ms)| *ms = (*ms * 10.0).round() / 10.0);
                Update::Reading { row: row.clone(), reading: r }
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_steady_row_sends_a_few_bytes_per_reading() {
        let web = RowId::check("web");
        let mut packer = Packer::default();
        let steps = [("dns", 0.4), ("connect", 1.2)];
        packer.push(&web, &reading(1_000, 8.0, "HTTP 200 OK in 8.0 ms", &steps), true);
        packer.push(&web, &reading(11_000, 9.3, "HTTP 200 OK in 9.3 ms", &steps), true);
        packer.push(&web, &reading(21_000, 7.9, "HTTP 200 OK in 7.9 ms", &steps), false);
        let Some(Down::Readings(batch)) = packer.take().pop() else { panic!() };
        let Packed::Full(first) = &batch.r[0] else { panic!("{:?}", batch.r[0]) };
        assert!(first.4.is_some() && first.6.is_some());
        let text: Vec<String> = batch.r[1..].iter().map(|p| serde_json::to_string(p).unwrap()).collect();
        // Inspected: the detail as an edit; not inspected and up: time and latency only.
        assert_eq!(text, [r#"[0,10,0,9,[15,3,"9.3"],[4,12],null]"#, "[0,20,7]"]);
        let mut unpacker = Unpacker::default();
        unpacker.rows(vec![web.clone()]).unwrap();
        let lean = serde_json::from_str::<Packed>(&text[1]).unwrap();
        let Update::Reading { reading, .. } = unpacker.unpack(0, lean).unwrap() else { panic!() };
        assert_eq!((reading.at.timestamp(), reading.latency_ms, reading.detail.as_str()), (20, 7.0, ""));
    }

    #[test]
    fn absurd_figures_from_the_far_side_are_bounded() {
        let mut unpacker = Unpacker::default();
        unpacker.rows(vec![RowId::check("a")]).unwrap();
        let extra = Extra { cert: Some(Some(i64::MAX)), ..Extra::default() };
        let absurd = Packed::Full(Full(0, 0, 0, u64::MAX, None, vec![], Some(extra)));
        let Update::Reading { reading, .. } = unpacker.unpack(0, absurd).unwrap() else { panic!() };
        assert_eq!((reading.latency_ms, reading.cert_days_left), (MAX_LATENCY_MS as f64, Some(MAX_CERT_DAYS)));
        let Update::Reading { reading, .. } = unpacker.unpack(0, Packed::Lean(0, 0, u64::MAX)).unwrap() else {
            panic!()
        };
        assert_eq!(reading.latency_ms, MAX_LATENCY_MS as f64);
        let sev = crate::journal::Event::new("x", crate::journal::EventBody::SeverityChanged { severity: 255 });
        let Update::Entries(entries) = bounded(Update::Entries(vec![sev])) else { panic!() };
        assert!(matches!(entries[0].body, crate::journal::EventBody::SeverityChanged { severity: 5 }));
        let direct = reading_with(f64::INFINITY, Some(-i64::MAX));
        let Update::Reading { reading, .. } = bounded(Update::Reading { row: RowId::check("a"), reading: direct })
        else {
            panic!()
        };
        assert_eq!((reading.latency_ms, reading.cert_days_left), (0.0, Some(-MAX_CERT_DAYS)));
    }

    fn reading_with(latency_ms: f64, cert: Option<i64>) -> Reading {
        Reading { cert_days_left: cert, ..reading(0, latency_ms, "", &[]) }
    }

    #[test]
    fn a_far_checklist_is_made_safe_to_draw() {
        let text = "name = \"ops\u{202e}gnp.exe\"\n[[item]]\nid = \"a\"\ntitle = \"Tell \u{202e}all\"\ndue = \"5m\"\n";
        let source = ChecklistSource { path: "/etc/x.toml".into(), text: text.into() };
        let list = source.parse("bastion").unwrap();
        assert_eq!(list.name, "opsgnp.exe");
        assert_eq!(list.items[0].title, "Tell all");
    }

    #[test]
    fn an_edit_that_does_not_fit_the_previous_detail_is_an_error() {
        assert_eq!(Edit::between("abc", "abc"), Edit(3, 0, String::new()));
        assert_eq!(Edit::between("é1é", "é22é").apply("é1é").unwrap(), "é22é");
        assert!(Edit(1, 0, "x".into()).apply("é").unwrap_err().contains("1+0 bytes of a 2-byte detail"));
        assert!(Edit(usize::MAX, 2, "x".into()).apply("ab").is_err());
    }

    #[test]
    fn a_reading_for_an_unknown_row_or_with_steps_missing_is_an_error() {
        let mut unpacker = Unpacker::default();
        let packed = Packed::Full(Full(3, 0, 0, 0, None, vec![], None));
        assert!(unpacker.unpack(0, packed.clone()).unwrap_err().contains("row 3 unknown"));
        unpacker.rows(vec![RowId::check("a"); 4]).unwrap();
        let odd = Packed::Full(Full(3, 0, 0, 0, None, vec![1], None));
        assert!(unpacker.unpack(0, odd).unwrap_err().contains("1 step durations for 0 step names"));
        assert!(
            unpacker.unpack(0, Packed::Full(Full(3, 0, 9, 0, None, vec![], None))).unwrap_err().contains("health 9")
        );
    }
}
