//! Slack incoming-webhook messages (Block Kit) for what one scan changed: grouped
//! by security group, each finding with severity, code, owner and every changed
//! field as `expected → actual`, plus the config snippet that would acknowledge it.
//!
//! Slack's limits are respected by splitting, never by silent truncation: at most
//! [`MAX_BLOCKS`] blocks per message (a group split across messages repeats its
//! heading), at most [`MAX_TEXT`] characters per text (a longer text ends saying
//! how much was cut).

use std::collections::HashMap;
use std::fmt::Write;

use serde::Deserialize;
use serde_json::{Value, json};

pub use super::Notice;
use super::{Given, Keys, Notifier};
use crate::diff_text::{describe_changes, show_value};
use crate::model::Event;
use crate::model::{Finding, Severity};
use crate::report::{by_group, group_heading, owner_text, subject};

/// Blocks per message (Slack refuses more).
pub const MAX_BLOCKS: usize = 50;
/// Characters of a section or context text (Slack refuses more).
pub const MAX_TEXT: usize = 3000;
/// Characters of a header's text.
pub const MAX_HEADER: usize = 150;

pub struct Slack;

/// `[notify.slack]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    webhook_url: Option<String>,
    webhook_url_file: Option<String>,
    min_severity: Option<String>,
    resolutions: Option<bool>,
}

impl Notifier for Slack {
    type Section = Section;
    const SECRET_KEYS: &'static [&'static str] = &["webhook_url"];
    const DEFAULT_MIN_SEVERITY: Severity = Severity::Medium;

    fn keys(section: Section) -> Keys {
        Keys {
            url: Given {
                key: "webhook_url",
                value: section.webhook_url,
                file: section.webhook_url_file,
            },
            secret: None,
            min_severity: section.min_severity,
            resolutions: section.resolutions,
        }
    }

    fn messages(scan_id: &str, notices: &[Notice]) -> Vec<String> {
        messages(scan_id, notices)
            .iter()
            .map(Value::to_string)
            .collect()
    }
}

/// The messages for one scan, in order (usually one).
pub fn messages(scan_id: &str, notices: &[Notice]) -> Vec<Value> {
    let findings: Vec<Finding> = notices.iter().map(|n| n.finding.clone()).collect();
    let events: HashMap<&str, Event> = notices
        .iter()
        .map(|n| (n.finding.id.as_str(), n.event))
        .collect();
    let affected: HashMap<&str, &[String]> = notices
        .iter()
        .map(|n| (n.finding.id.as_str(), n.affects.as_slice()))
        .collect();

    // Pages of blocks, between each message's header and closing context line.
    // A finding's two blocks stay together; a group heading needs room for one
    // finding after it; a group split across pages repeats its heading.
    let budget = MAX_BLOCKS - 2;
    let mut pages: Vec<Vec<Value>> = vec![Vec::new()];
    for (_, group) in by_group(&findings) {
        let heading = escape(&group_heading(group[0]));
        if pages.last().map_or(0, Vec::len) + 3 > budget {
            pages.push(Vec::new());
        }
        let page = pages.last_mut().expect("one page at least");
        if !page.is_empty() {
            page.push(json!({"type": "divider"}));
        }
        page.push(section(&format!("*{heading}*")));
        for finding in group {
            if pages.last().map_or(0, Vec::len) + 2 > budget {
                pages.push(vec![section(&format!("*{heading}* (continued)"))]);
            }
            let event = events
                .get(finding.id.as_str())
                .copied()
                .unwrap_or(Event::New);
            let affects = affected.get(finding.id.as_str()).copied().unwrap_or(&[]);
            pages.last_mut().expect("one page at least").extend([
                section(&finding_text(finding, event, affects)),
                context(&acknowledge_hint(finding)),
            ]);
        }
    }

    let total = pages.len();
    let summary = summary(notices);
    pages
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| {
            let part = if total > 1 {
                format!(" (part {} of {total})", i + 1)
            } else {
                String::new()
            };
            let mut all = vec![json!({
                "type": "header",
                "text": {"type": "plain_text", "text": clip(&format!("driftd: {summary}{part}"), MAX_HEADER)},
            })];
            all.extend(blocks);
            all.push(context(&format!(
                "scan `{scan_id}` · `driftd report` shows every finding"
            )));
            json!({
                "text": fallback(scan_id, notices, &part),
                "blocks": all,
            })
        })
        .collect()
}

/// `3 new, 1 resolved` and the severities: the header, and the start of the
/// plain-text fallback.
fn summary(notices: &[Notice]) -> String {
    let count = |event: Event| notices.iter().filter(|n| n.event == event).count();
    let mut parts = Vec::new();
    for (event, word) in [
        (Event::New, "new"),
        (Event::Recurred, "back"),
        (Event::Changed, "changed"),
        (Event::Resolved, "resolved"),
    ] {
        let n = count(event);
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let noun = if notices.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    format!("{} {noun}", parts.join(", "))
}

/// What phones and notifications show: one line per finding, as many as fit.
fn fallback(scan_id: &str, notices: &[Notice], part: &str) -> String {
    let mut text = format!("driftd: {}{part} in scan {scan_id}", summary(notices));
    for (i, notice) in notices.iter().enumerate() {
        let f = notice.finding;
        let line = format!(
            "\n{} {} {}: {}",
            f.severity,
            f.code,
            f.resource.group_id.as_deref().unwrap_or("-"),
            changes_inline(f)
        );
        if text.len() + line.len() > MAX_TEXT - 40 {
            let _ = write!(text, "\n… and {} more", notices.len() - i);
            break;
        }
        text.push_str(&line);
    }
    text
}

fn changes_inline(f: &Finding) -> String {
    if f.changes.is_empty() {
        return subject(f);
    }
    describe_changes(&f.changes)
}

fn finding_text(f: &Finding, event: Event, affects: &[String]) -> String {
    let event = match event {
        Event::New if f.recurred => "back",
        Event::New => "new",
        Event::Recurred => "back",
        Event::Changed => "changed",
        Event::Resolved => "resolved",
    };
    let mut text = format!(
        "*{}* `{}` ({event}) · {}\n",
        f.severity.as_str().to_uppercase(),
        f.code,
        escape(&subject(f))
    );
    for c in &f.changes {
        let _ = writeln!(
            text,
            "• `{}`: `{}` → `{}`",
            c.field,
            code_safe(&show_value(&c.expected)),
            code_safe(&show_value(&c.actual))
        );
    }
    if f.changes.is_empty() {
        let _ = writeln!(text, "{}", escape(&f.message));
    }
    if !affects.is_empty() {
        let _ = writeln!(text, "Affects: {}", escape(&affects.join(", ")));
    }
    if let Some(attribution) = &f.changed_by {
        let _ = writeln!(text, "{}", escape(&capitalised(&attribution.sentence())));
    }
    let _ = write!(text, "Owner: {}", escape(&owner_text(f)));
    clip(&text, MAX_TEXT)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The `[[acknowledge]]` entry that would acknowledge this finding.
fn acknowledge_hint(f: &Finding) -> String {
    let mut snippet = format!("[[acknowledge]]\ncode = \"{}\"\n", f.code);
    if let Some(group) = &f.resource.group_id {
        let _ = writeln!(snippet, "group_id = \"{group}\"");
    }
    if let [only] = f.changes.as_slice() {
        let _ = writeln!(snippet, "field = \"{}\"", only.field);
    }
    snippet.push_str("reason = \"why this drift is intended\"");
    clip(
        &format!("Intended? Acknowledge it in the config:\n```{snippet}```"),
        MAX_TEXT,
    )
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_TEXT)}})
}

fn context(text: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_TEXT)}]})
}

/// At most `max` characters; a cut text says how much it lost.
fn clip(text: &str, max: usize) -> String {
    let chars = text.chars().count();
    if chars <= max {
        return text.to_string();
    }
    // The note is under 40 characters.
    let keep = max.saturating_sub(40);
    let note = format!("… ({} more characters)", chars - keep);
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(&note);
    out
}

/// Slack mrkdwn control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A value inside `code`: escaped, and without backticks that would end it.
fn code_safe(text: &str) -> String {
    escape(text).replace('`', "'")
}
