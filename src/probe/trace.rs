//! Step timing that survives a timeout: when a probe is cancelled mid-step, the trace still
//! knows which step it was in, so the outcome can say "timed out during RCPT TO".

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::outcome::{Health, Outcome, Step};

/// Longest step name kept, in characters.
const MAX_STEP_CHARS: usize = 160;

#[derive(Clone)]
pub struct Trace {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    started: Instant,
    steps: Vec<Step>,
    current: Option<(String, Instant)>,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    pub fn new() -> Self {
        Trace { inner: Arc::new(Mutex::new(Inner { started: Instant::now(), steps: Vec::new(), current: None })) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned trace only means another probe step panicked; its data is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the current step (if any) and starts `name`, cut to [`MAX_STEP_CHARS`]: a step may
    /// name a URL a server chose (a redirect's Location), and its name goes into details.
    pub fn step(&self, name: impl Into<String>) {
        let mut name = name.into();
        // Counting characters only when there could be too many (never more than bytes).
        if name.len() > MAX_STEP_CHARS
            && let Some((at, _)) = name.char_indices().nth(MAX_STEP_CHARS)
        {
            name.truncate(at);
            name.push('…');
        }
        let mut inner = self.lock();
        let now = Instant::now();
        if let Some((prev, since)) = inner.current.take() {
            inner.steps.push(Step { name: prev, took: now - since });
        }
        inner.current = Some((name, now));
    }

    /// Name of the step in progress.
    pub fn current(&self) -> Option<String> {
        self.lock().current.as_ref().map(|(n, _)| n.clone())
    }

    pub fn elapsed(&self) -> Duration {
        self.lock().started.elapsed()
    }

    /// Closes the trace into an outcome.
    pub fn finish(&self, health: Health, detail: impl Into<String>) -> Outcome {
        let mut inner = self.lock();
        let now = Instant::now();
        if let Some((prev, since)) = inner.current.take() {
            inner.steps.push(Step { name: prev, took: now - since });
        }
        let mut outcome = Outcome::new(health, now - inner.started, detail);
        outcome.steps = std::mem::take(&mut inner.steps);
        outcome
    }

    /// The outcome for a probe cancelled by its timeout.
    pub fn timed_out(&self, timeout: Duration) -> Outcome {
        let detail = match self.current() {
            Some(step) => format!("timed out after {} during {step}", humantime::format_duration(timeout)),
            None => format!("timed out after {}", humantime::format_duration(timeout)),
        };
        self.finish(Health::Down, detail)
    }
}
