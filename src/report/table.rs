//! The terminal table: grouped by security group, one line per finding, each
//! changed field as `expected → actual` beneath it. Colour only when asked for
//! (the caller decides: a terminal, and `NO_COLOR` unset).

use std::fmt::Write;

use super::{
    Report, by_group, compared_line, group_heading, no_findings_line, owner_text, partial_reason,
    subject,
};
use crate::diff_text::show_value;
use crate::model::{Finding, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    Plain,
    Colour,
}

fn paint(style: TableStyle, severity: Severity, text: &str) -> String {
    if style == TableStyle::Plain {
        return text.to_string();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

pub fn render_table(report: &Report, style: TableStyle) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "driftd report · scan {} · {} · {}",
        report.scan.id,
        report.generated_at,
        match partial_reason(report) {
            None => "complete".to_string(),
            Some(reason) => format!("PARTIAL: {reason}"),
        }
    );
    let _ = writeln!(
        out,
        "{} live groups, {} live rules · {} managed groups, {} declared rules · {}",
        s.live_security_groups,
        s.live_rules,
        s.managed_security_groups,
        s.declared_rules,
        compared_line(s)
    );
    if let Some(line) = no_findings_line(report) {
        let _ = writeln!(out, "\n{line}");
        return out;
    }
    let severity_w = report
        .findings
        .iter()
        .map(|f| f.severity.as_str().len())
        .max()
        .unwrap_or(0);
    let code_w = report
        .findings
        .iter()
        .map(|f| f.code.as_str().len())
        .max()
        .unwrap_or(0);
    let subject_w = report
        .findings
        .iter()
        .map(|f| subject(f).chars().count())
        .max()
        .unwrap_or(0);
    let indent = 2 + severity_w + 2 + code_w + 2;

    for (_, findings) in by_group(&report.findings) {
        let _ = writeln!(out, "\n{}", group_heading(findings[0]));
        for finding in findings {
            let severity = format!("{:<severity_w$}", finding.severity.as_str());
            let _ = writeln!(
                out,
                "  {}  {:<code_w$}  {:<subject_w$}  {}",
                paint(style, finding.severity, &severity),
                finding.code.as_str(),
                subject(finding),
                owner_text(finding),
            );
            write_details(&mut out, finding, indent);
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(report));
    out
}

fn write_details(out: &mut String, finding: &Finding, indent: usize) {
    let pad = " ".repeat(indent);
    let field_w = finding
        .changes
        .iter()
        .map(|c| c.field.len())
        .max()
        .unwrap_or(0);
    for change in &finding.changes {
        let _ = writeln!(
            out,
            "{pad}{:<field_w$}  {} → {}{}",
            change.field,
            show_value(&change.expected),
            show_value(&change.actual),
            change
                .property_path
                .as_ref()
                .map(|p| format!("  ({p})"))
                .unwrap_or_default()
        );
    }
    if finding.changes.is_empty() {
        let _ = writeln!(out, "{pad}{}", finding.message);
    }
    let status = super::status_text(finding);
    if status != "new" {
        let _ = writeln!(out, "{pad}status: {status}");
    }
    if let Some(ack) = &finding.acknowledged {
        let until = ack
            .expires
            .as_ref()
            .map(|e| format!(" (until {e})"))
            .unwrap_or_default();
        let _ = writeln!(out, "{pad}acknowledged: {}{until}", ack.reason);
    }
}

/// `3 findings: 1 critical, 2 high · 1 acknowledged`
pub(crate) fn summary_line(report: &Report) -> String {
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            report
                .summary
                .by_severity
                .get(s.as_str())
                .map(|n| format!("{n} {s}"))
        })
        .collect();
    format!(
        "{} finding{}: {} · {} acknowledged",
        report.summary.findings,
        if report.summary.findings == 1 {
            ""
        } else {
            "s"
        },
        counts.join(", "),
        report.summary.acknowledged
    )
}
