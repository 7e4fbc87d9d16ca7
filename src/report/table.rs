//! The terminal table: grouped by security group, one row per finding with its
//! severity, code and subject in aligned columns, and beneath it each change
//! marked as `terraform plan` marks it. Every line fits the width it is given:
//! what is long wraps under the subject, never across the columns. Colour only
//! when asked for (the caller decides: a terminal, `--color`, `NO_COLOR`).

use std::iter;

use anstyle::{AnsiColor, Style};
use textwrap::core::display_width;

use super::marks::Mark;
use super::wrap::{join_parts, wrap};
use super::{
    Acting, Report, Summary, acting_owner, by_group, compared_line, findings_count,
    message_says_more, no_findings_line, owner_text, partial_reason, report_group_heading,
    status_text, subject,
};
use crate::diff_text::show_value;
use crate::model::{Change, Finding, FindingStatus, Severity};

/// The width when there is no terminal to measure (output piped or to a file).
pub const DEFAULT_TABLE_WIDTH: usize = 100;

/// Beside the columns, text narrower than this would wrap every few words: the
/// subject then has a line of its own, below them.
const MIN_TEXT_WIDTH: usize = 30;

/// Where a subject's mark goes on a line of its own.
const STACKED_MARK_COLUMN: usize = 4;

/// A mark and the space after it: `~ `.
const MARK_WIDTH: usize = 2;

/// Between columns.
const GAP: &str = "  ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    Plain,
    Colour,
}

/// The report in lines of at most `width` columns (narrower than the severity
/// and code columns themselves, rows overflow: the columns never wrap).
pub fn render_table(report: &Report, style: TableStyle, width: usize) -> String {
    let mut lines = header(report, width);
    match no_findings_line(report) {
        Some(all_clear) => {
            lines.push(String::new());
            lines.extend(wrap(all_clear, width));
        }
        None => {
            let columns = Columns::new(&report.findings, width);
            for (_, findings) in by_group(&report.findings) {
                lines.push(String::new());
                lines.extend(join_parts(
                    &report_group_heading(report, findings[0]),
                    width,
                ));
                for finding in findings {
                    lines.extend(columns.finding(finding, style));
                }
            }
            lines.push(String::new());
        }
    }
    lines.extend(summary(&report.summary, width));
    lines
        .iter()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// What was scanned (`driftd report · scan … · complete`, or `PARTIAL: why`), and
/// what was read on each side.
fn header(report: &Report, width: usize) -> Vec<String> {
    let s = &report.summary;
    let state = match partial_reason(report) {
        None => "complete".to_string(),
        Some(reason) => format!("PARTIAL: {reason}"),
    };
    let scan = [
        "driftd report".to_string(),
        format!("scan {}", report.scan.id),
        report.generated_at.clone(),
        state,
    ];
    let inventory = [
        format!(
            "{} live groups, {} live rules",
            s.live_security_groups, s.live_rules
        ),
        format!(
            "{} managed groups, {} declared rules",
            s.managed_security_groups, s.declared_rules
        ),
    ];
    let mut lines = join_parts(&scan, width);
    lines.extend(super::scopes_line(report));
    lines.extend(join_parts(&inventory, width));
    lines
}

/// The last line: the findings by severity, and what was compared.
fn summary(summary: &Summary, width: usize) -> Vec<String> {
    join_parts(&[findings_count(summary), compared_line(summary)], width)
}

/// Where each column starts: fixed for the whole table, so that they align.
struct Columns {
    width: usize,
    severity: usize,
    code: usize,
    /// Subjects on the findings' rows; else (a narrow terminal) on the line below.
    subject_on_row: bool,
    /// Where marks go; subjects and details start `MARK_WIDTH` further.
    mark: usize,
    /// Where owners start on the rows; `None`: on a line of their own, below.
    owner: Option<usize>,
}

impl Columns {
    fn new(findings: &[Finding], width: usize) -> Columns {
        let severity = widest(findings.iter().map(|f| f.severity.as_str()));
        let code = widest(findings.iter().map(|f| f.code.as_str()));
        let mark_on_row = 2 + severity + GAP.len() + code + GAP.len();
        let subject_on_row = width >= mark_on_row + MARK_WIDTH + MIN_TEXT_WIDTH;
        let mark = match subject_on_row {
            true => mark_on_row,
            false => STACKED_MARK_COLUMN,
        };
        // Owners share the rows only if every one fits: a table reads best when
        // they are all in the same place.
        let owner = mark + MARK_WIDTH + widest(findings.iter().map(subject)) + GAP.len();
        let owners_fit = subject_on_row
            && findings
                .iter()
                .all(|f| owner + display_width(&owner_text(f)) <= width);
        Columns {
            width,
            severity,
            code,
            subject_on_row,
            mark,
            owner: owners_fit.then_some(owner),
        }
    }

    /// Where subjects and details start.
    fn text(&self) -> usize {
        self.mark + MARK_WIDTH
    }

    /// A finding's lines: its row, then its changes (or, having none, its
    /// message), its owner (unless on the row), status and acknowledgement.
    fn finding(&self, finding: &Finding, style: TableStyle) -> Vec<String> {
        let mut lines = self.row(finding, style);
        if finding.changes.is_empty() || message_says_more(finding.code) {
            lines.extend(self.detail(&finding.message));
        }
        lines.extend(self.changes(&finding.changes, style));
        for detail in details(finding, self.owner.is_none()) {
            lines.extend(self.detail(&detail));
        }
        lines
    }

    /// `  high  rule-modified  ~ egress tcp 80 to sg-2  owner`, the subject
    /// wrapping under itself; on a narrow terminal it has a line of its own.
    fn row(&self, finding: &Finding, style: TableStyle) -> Vec<String> {
        let severity = finding.severity.as_str();
        let columns = format!(
            "  {}{GAP}{}",
            padded(
                &paint(style, severity_look(finding.severity), severity),
                self.severity
            ),
            padded(finding.code.as_str(), self.code)
        );
        let mark = mark_cell(Mark::of_finding(finding), style);
        let subject = subject(finding);
        if !self.subject_on_row {
            let below = self.hanging(
                format!("{}{mark}", spaces(self.mark)),
                &subject,
                self.text(),
            );
            return iter::once(columns).chain(below).collect();
        }
        let mut lines = self.hanging(format!("{columns}{GAP}{mark}"), &subject, self.text());
        if let Some(at) = self.owner {
            lines[0] = format!("{}{}", padded(&lines[0], at), owner_text(finding));
        }
        lines
    }

    /// `~ to_port  80 → 8080`, one line per change (more if long, under the field).
    fn changes(&self, changes: &[Change], style: TableStyle) -> Vec<String> {
        let field_width = widest(changes.iter().map(|c| c.field.as_str()));
        changes
            .iter()
            .flat_map(|change| {
                let mark = Mark::of_change(change);
                let first = format!("{}{}", spaces(self.text()), mark_cell(Some(mark), style));
                let text = change_text(change, mark, field_width);
                self.hanging(first, &text, self.text() + MARK_WIDTH)
            })
            .collect()
    }

    fn detail(&self, text: &str) -> Vec<String> {
        self.hanging(spaces(self.text()), text, self.text())
    }

    /// `text` wrapped to start at `column`: the first line after `first` (as wide
    /// as `column`), the others after spaces.
    fn hanging(&self, first: String, text: &str, column: usize) -> Vec<String> {
        let mut lines = wrap(text, self.width.saturating_sub(column)).into_iter();
        let head = format!("{first}{}", lines.next().unwrap_or_default());
        iter::once(head)
            .chain(lines.map(|line| format!("{}{line}", spaces(column))))
            .collect()
    }
}

/// `to_port  80 → 8080`; an added value alone, as `terraform plan` shows it
/// (`description  web`); a removed one going to none (`peer  sg-1 → none`).
fn change_text(change: &Change, mark: Mark, field_width: usize) -> String {
    let values = match mark {
        Mark::Added => show_value(&change.actual),
        Mark::Removed | Mark::Changed => format!(
            "{} → {}",
            show_value(&change.expected),
            show_value(&change.actual)
        ),
    };
    let path = change
        .property_path
        .as_ref()
        .map(|p| format!("{GAP}({p})"))
        .unwrap_or_default();
    format!("{}{GAP}{values}{path}", padded(&change.field, field_width))
}

/// What follows a finding's changes: its owner when not on the row (nobody's
/// goes unsaid), where it stands in history unless new, its acknowledgement.
fn details(finding: &Finding, owner_below: bool) -> Vec<String> {
    let mut details = Vec::new();
    if owner_below {
        match acting_owner(finding) {
            Acting::Owner(owner) => details.push(format!("owner: {}", owner.label())),
            Acting::GroupOwner(owner) => details.push(format!("group owner: {}", owner.label())),
            Acting::Nobody => {}
        }
    }
    if finding.status != FindingStatus::New || finding.recurred {
        details.push(format!("status: {}", status_text(finding)));
    }
    if let Some(attribution) = &finding.changed_by {
        details.push(attribution.sentence());
    }
    if let Some(ack) = &finding.acknowledged {
        let until = ack
            .expires
            .as_ref()
            .map(|e| format!(" (until {e})"))
            .unwrap_or_default();
        details.push(format!("acknowledged: {}{until}", ack.reason));
    }
    details
}

/// A mark and the space after it, or blanks for a finding that changed nothing.
fn mark_cell(mark: Option<Mark>, style: TableStyle) -> String {
    match mark {
        Some(mark) => format!("{} ", paint(style, mark.look(), mark.symbol())),
        None => spaces(MARK_WIDTH),
    }
}

fn severity_look(severity: Severity) -> Style {
    let colour = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
    match severity {
        Severity::Critical => colour(AnsiColor::Red).bold(),
        Severity::High => colour(AnsiColor::Red),
        Severity::Medium => colour(AnsiColor::Yellow),
        Severity::Low => colour(AnsiColor::Cyan),
        Severity::Info => Style::new().dimmed(),
    }
}

fn paint(style: TableStyle, look: Style, text: &str) -> String {
    match style {
        TableStyle::Plain => text.to_string(),
        TableStyle::Colour => format!("{}{text}{}", look.render(), look.render_reset()),
    }
}

/// `text` and spaces up to `width` columns (colour codes take none).
fn padded(text: &str, width: usize) -> String {
    format!(
        "{text}{}",
        spaces(width.saturating_sub(display_width(text)))
    )
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

fn widest<T: AsRef<str>>(texts: impl Iterator<Item = T>) -> usize {
    texts.map(|t| display_width(t.as_ref())).max().unwrap_or(0)
}
