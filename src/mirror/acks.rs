//! The shipper's check of a mirror's acknowledgements: a mirror may only acknowledge what
//! was sent to it. One that names an event never sent, or claims more lines than were sent,
//! is not believed (a broken or lying far end must not show as "in step").

use std::collections::VecDeque;

/// Batches sent and not yet acknowledged: the id of each one's last line (empty for a line
/// without one, as ingest acknowledges it) and the journal's line count after it.
#[derive(Debug, Default)]
pub struct Unacked {
    batches: VecDeque<(String, usize)>,
}

impl Unacked {
    pub fn sent(&mut self, last_id: String, lines: usize) {
        self.batches.push_back((last_id, lines));
    }

    /// Takes an acknowledgement: `Ok` if it names a batch sent (that batch and those before
    /// it are then done) and holds no more lines than were sent up to it; else why not.
    pub fn ack(&mut self, id: &str, lines: usize) -> Result<(), String> {
        let shown = crate::sanitize::sanitize_str(id, 60);
        let Some(at) = self.batches.iter().position(|(sent, _)| sent == id) else {
            return Err(format!("the mirror acknowledged event {shown:?}, which was not sent to it: not believed"));
        };
        let upto = self.batches[at].1;
        if lines > upto {
            return Err(format!(
                "the mirror claims {lines} lines on acknowledging {shown:?}, but only {upto} were sent by then: not believed"
            ));
        }
        self.batches.drain(..=at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Unacked;

    #[test]
    fn an_ack_must_name_a_batch_sent_and_claim_no_more_lines_than_were_sent() {
        let mut unacked = Unacked::default();
        unacked.sent("a".into(), 3);
        unacked.sent("b".into(), 5);
        unacked.sent("c".into(), 9);
        assert!(unacked.ack("never-sent", 3).unwrap_err().contains("not sent"));
        assert!(unacked.ack("b", 6).unwrap_err().contains("claims 6 lines"));
        // Acks may skip batches (one ack after several were taken together).
        assert!(unacked.ack("b", 5).is_ok());
        // A batch acknowledged is done: acknowledging it again is not believed either.
        assert!(unacked.ack("a", 3).is_err());
        assert!(unacked.ack("c", 9).is_ok());
        assert!(unacked.ack("c", 9).is_err());
    }
}
