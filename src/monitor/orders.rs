//! What one check's task has been asked to do: pause, resume, probe now, stop.
//!
//! A word of flags and a wake-up per check, not a channel: the task only ever needs the latest
//! word (paused or not, a probe owed or not), and at 10,000 checks an unbounded channel each
//! held 5 MB (BENCHMARKS.md, issue 22).

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

use super::Control;

const PAUSED: u8 = 1;
const PROBE_NOW: u8 = 2;
const STOPPED: u8 = 4;

#[derive(Default)]
pub struct Orders {
    flags: AtomicU8,
    wake: Notify,
}

/// What the task reads when woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub paused: bool,
    /// A probe was asked for (run now, or resumed) since the last read.
    pub probe_now: bool,
    pub stopped: bool,
}

impl Orders {
    /// Pausing is a state; resuming also probes at once, as running now does (even while
    /// paused: the operator asked to see it).
    pub fn give(&self, control: Control) {
        let (clear, set) = match control {
            Control::Pause => (0, PAUSED),
            Control::Resume => (PAUSED, PROBE_NOW),
            Control::RunNow => (0, PROBE_NOW),
        };
        // One update, so a task reading between the two halves never sees them apart.
        let _ = self.flags.fetch_update(Ordering::AcqRel, Ordering::Acquire, |f| Some((f & !clear) | set));
        self.wake.notify_one();
    }

    /// The task ends at its next wake-up.
    pub fn stop(&self) {
        self.flags.fetch_or(STOPPED, Ordering::AcqRel);
        self.wake.notify_one();
    }

    /// Resolves once something was asked since the last read (a wake-up given while nobody
    /// waited is kept, so none is lost).
    pub async fn changed(&self) {
        self.wake.notified().await;
    }

    /// The orders now; a probe asked for is taken (it is owed once).
    pub fn read(&self) -> Read {
        let flags = self.flags.fetch_and(!PROBE_NOW, Ordering::AcqRel);
        Read { paused: flags & PAUSED != 0, probe_now: flags & PROBE_NOW != 0, stopped: flags & STOPPED != 0 }
    }

    pub fn paused(&self) -> bool {
        self.flags.load(Ordering::Acquire) & PAUSED != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_asked_for_is_owed_once_and_pausing_stays() {
        let orders = Orders::default();
        orders.give(Control::RunNow);
        assert_eq!(orders.read(), Read { paused: false, probe_now: true, stopped: false });
        assert_eq!(orders.read(), Read { paused: false, probe_now: false, stopped: false });
        orders.give(Control::Pause);
        assert_eq!(orders.read(), Read { paused: true, probe_now: false, stopped: false });
        assert!(orders.paused());
        orders.give(Control::Resume);
        assert_eq!(orders.read(), Read { paused: false, probe_now: true, stopped: false });
        orders.stop();
        assert!(orders.read().stopped);
    }

    #[tokio::test]
    async fn a_wake_up_given_before_anyone_waits_is_kept() {
        let orders = Orders::default();
        orders.give(Control::RunNow);
        tokio::time::timeout(std::time::Duration::from_secs(5), orders.changed()).await.expect("the wake-up was lost");
    }
}
