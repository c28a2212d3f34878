//! Off-site mirrors: the journal shipped, as it is written, to warroom on other hosts.
//!
//! A war room on a bastion burns with its datacenter, and its journal with it. So each
//! `[[mirror]]` of the config gets every journal line, byte for byte and in order, over
//! `ssh DEST warroom ingest -j PATH` ([`ingest`], the far end). One session per journal
//! ships ([`Station`]: elected by a lock beside the journal, as the poller is); sessions and
//! `warroom log` just append. A line counts as mirrored once the far side has it on disk
//! (it acknowledges by id after `fsync`); a mirror that was away says what it holds when it
//! comes back, and shipping resumes after it. Lines carry the chain ([`crate::journal::chain`]),
//! so the mirror checks every line it gets continues its copy, and a primary whose recent
//! entries were edited or deleted no longer matches the mirror's head: both sides say so.
//!
//! On the mirror host the copy is a whole journal (dashboard, report, status page work on
//! it), read-only until `warroom promote`: ingest keeps a small state file beside it (when
//! the primary last spoke, its clock, the chain head), from which the screen says "primary
//! silent since 14:02". Nothing takes over by itself.

mod acks;
pub mod ingest;
pub mod merge;
mod promote;
mod shipper;
mod station;
pub mod status;
mod tail;
pub mod wire;

pub use promote::{Promotion, heard_recently, primary_heard, promote, what_runs};
pub use shipper::shipped_config;
pub use station::Station;
