//! Telling people: Slack messages (and, next, a generic webhook and the outbox
//! that delivers both with retries).

pub mod slack;
