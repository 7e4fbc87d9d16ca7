//! What happened to a finding in one scan, as its lifecycle decides (`store`) and
//! as notifiers tell it (`notify`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    New,
    Changed,
    Recurred,
    Resolved,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::New => "new",
            Event::Changed => "changed",
            Event::Recurred => "recurred",
            Event::Resolved => "resolved",
        }
    }
}
