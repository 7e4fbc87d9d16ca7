//! Markdown for tickets and pull-request comments: one table per security group.

use std::fmt::Write;

use super::{
    Report, by_group, compared_line, findings_count, message_says_more, no_findings_line,
    owner_text, partial_reason, report_group_heading, status_text, subject,
};
use crate::diff_text::show_value;
use crate::model::Finding;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## driftd report\n");
    let _ = writeln!(
        out,
        "Scan `{}` at {} · {} · {} live groups, {} live rules · {} managed groups, {} declared rules · {}\n",
        report.scan.id,
        report.generated_at,
        match partial_reason(report) {
            None => "complete".to_string(),
            Some(reason) => format!("**partial: {reason}**"),
        },
        report.summary.live_security_groups,
        report.summary.live_rules,
        report.summary.managed_security_groups,
        report.summary.declared_rules,
        compared_line(&report.summary),
    );
    if let Some(line) = super::scopes_line(report) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(line) = no_findings_line(report) {
        let _ = writeln!(out, "{line}");
        return out;
    }
    let _ = writeln!(out, "**{}**", findings_count(&report.summary));
    for (_, findings) in by_group(&report.findings) {
        let _ = writeln!(
            out,
            "\n### {}\n",
            cell(&report_group_heading(report, findings[0]).join(" · "))
        );
        let _ = writeln!(out, "| Severity | Code | Rule | Change | Owner | Status |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for finding in findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                finding.severity,
                code(finding.code.as_str()),
                cell(&subject(finding)),
                change_cell(finding),
                cell(&owner_text(finding)),
                cell(&status_text(finding)),
            );
        }
    }
    out
}

fn change_cell(finding: &Finding) -> String {
    let mut lines: Vec<String> = finding
        .changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} → {}{}",
                code(&c.field),
                code(&show_value(&c.expected)),
                code(&show_value(&c.actual)),
                c.property_path
                    .as_ref()
                    .map(|p| format!(" ({})", code(p)))
                    .unwrap_or_default()
            )
        })
        .collect();
    if lines.is_empty() || message_says_more(finding.code) {
        lines.insert(0, cell(&finding.message));
    }
    if let Some(attribution) = &finding.changed_by {
        lines.push(format!("_{}_", cell(&attribution.sentence())));
    }
    if let Some(ack) = &finding.acknowledged {
        let until = ack
            .expires
            .as_ref()
            .map(|e| format!(" until {e}"))
            .unwrap_or_default();
        lines.push(format!("_acknowledged{until}: {}_", cell(&ack.reason)));
    }
    lines.join("<br>")
}
