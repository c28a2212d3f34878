//! What tells one row of the board from every other.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A row's stable identity: the check's name, and for a row a source reports (a Prometheus
/// series, an Alertmanager alert) the source's own key for it. Room is left for the place a
/// row is seen from, so that rows of several vantages can stand side by side later.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RowId {
    pub check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl RowId {
    /// A configured check.
    pub fn check(name: impl Into<String>) -> RowId {
        RowId { check: name.into(), key: None }
    }

    /// One of the rows a source reports.
    pub fn row(check: impl Into<String>, key: impl Into<String>) -> RowId {
        RowId { check: check.into(), key: Some(key.into()) }
    }

    /// The name the journal records changes under: `alerts / HighErrorRate api-1`. A
    /// configured check's is its own name, borrowed: looked up for every reading.
    pub fn name(&self) -> Cow<'_, str> {
        match &self.key {
            None => Cow::Borrowed(&self.check),
            Some(key) => Cow::Owned(format!("{} / {key}", self.check)),
        }
    }
}
