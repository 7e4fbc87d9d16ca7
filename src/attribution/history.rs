//! What attribution needs from the history of earlier scans (the store fills it
//! in, `store::Store::attribution_history`): an answer already found, or the window
//! to look in.

use std::collections::HashMap;

use crate::model::Attribution;

/// For one finding of this scan.
#[derive(Debug, Clone, PartialEq)]
pub enum Prior {
    /// Looked up before, for the same drift: the answer stands.
    Keep(Attribution),
    /// To be looked up in events after `since` (the start of the last scan that did
    /// not have this drift; none: as far back as CloudTrail keeps). `first_seen` is
    /// set for a drift seen before and still unattributed (pending, or CloudTrail
    /// could not be read then).
    LookUp {
        since: Option<String>,
        first_seen: Option<String>,
    },
}

/// What attribution needs from history.
#[derive(Debug, Clone, Default)]
pub struct AttributionHistory {
    /// By finding id; a finding not here is looked up as new, over CloudTrail's
    /// whole history.
    pub priors: HashMap<String, Prior>,
    /// What last carried each group (carrier labels), for the detach behind a
    /// `reference-empty`.
    pub last_carriers: HashMap<String, Vec<String>>,
}
