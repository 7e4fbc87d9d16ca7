//! The finding codes driftd produces are declared once (`model::FindingCode`), and
//! that list is the contract's: every code in `contracts/FINDINGS.md` and in the
//! report schema, nothing else, save the codes the open issues have yet to produce.

use std::collections::BTreeSet;

use driftd::model::FindingCode;

/// Codes the contract already names for work not yet landed (the coverage and the
/// network-context issues): each moves into `FindingCode` with its check.
const NOT_YET_PRODUCED: [&str; 0] = [];

fn contract_codes() -> BTreeSet<String> {
    let text = std::fs::read_to_string("../shared/contracts/FINDINGS.md")
        .expect("../shared/contracts/FINDINGS.md beside the project");
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(code, _)| code.to_string())
        .collect()
}

fn schema_codes() -> BTreeSet<String> {
    let text = std::fs::read_to_string("schema/report.schema.json").unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    schema["definitions"]["finding"]["properties"]["code"]["enum"]
        .as_array()
        .expect("the schema lists the codes")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn finding_codes_are_the_contracts() {
    let ours: BTreeSet<String> = FindingCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(ours.len(), FindingCode::ALL.len(), "no code twice");
    let mut expected = ours.clone();
    expected.extend(NOT_YET_PRODUCED.iter().map(|c| c.to_string()));
    assert_eq!(contract_codes(), expected, "FINDINGS.md");
    assert_eq!(schema_codes(), expected, "report.schema.json");
    for code in NOT_YET_PRODUCED {
        assert_eq!(
            FindingCode::parse(code),
            None,
            "{code} is produced now: list it once"
        );
    }
}

/// Each code's default severity is the first one its FINDINGS.md row names (the
/// checks raise or lower it only where the row says so).
#[test]
fn default_severities_are_the_contracts() {
    let text = std::fs::read_to_string("../shared/contracts/FINDINGS.md").unwrap();
    for code in FindingCode::ALL {
        let row = text
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", code.as_str())))
            .unwrap_or_else(|| panic!("{code} has a row"));
        let severity_column = row.trim_end_matches('|').rsplit('|').next().unwrap();
        let first_word = severity_column
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap();
        let ours = serde_json::to_value(code.default_severity()).unwrap();
        assert_eq!(ours, first_word, "{code}: {row}");
    }
}

/// `docs/findings.md` documents every code of the contract under its own heading,
/// and each code the binary produces with the default severity it really has.
#[test]
fn every_code_is_documented_in_the_repository() {
    let text = std::fs::read_to_string("docs/findings.md").unwrap();
    let sections: Vec<&str> = text.split("\n### `").skip(1).collect();
    for code in FindingCode::ALL {
        let section = sections
            .iter()
            .find(|s| s.starts_with(&format!("{}`\n", code.as_str())))
            .unwrap_or_else(|| panic!("docs/findings.md has a `### `{code}`` section"));
        let severity = serde_json::to_value(code.default_severity()).unwrap();
        let line = format!("Default severity: **{}**.", severity.as_str().unwrap());
        assert!(
            section.contains(&line),
            "docs/findings.md, {code}: {line:?} in\n{section}"
        );
    }
    let documented: BTreeSet<&str> = sections
        .iter()
        .filter_map(|s| s.split_once('`').map(|(code, _)| code))
        .collect();
    let contract: BTreeSet<&str> = FindingCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(NOT_YET_PRODUCED)
        .collect();
    assert_eq!(
        documented, contract,
        "a section per code of the contract (planned ones say so), no other"
    );
}
