//! The policy document: the whole support policy as one human-editable TOML
//! file (`policy/published.toml` is the published one). This module reads the
//! text into document types that keep every value's position; [`super::check`]
//! validates them and builds a [`super::Policy`].
//!
//! References between entries (a plan's channels, a rule's priority, the
//! targets' plan ids) are plain strings here, so a bad one is reported by
//! the check with its path and line instead of failing the whole parse.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// A value and where it stands in the document text.
pub type At<T> = Spanned<T>;

/// The document as written. Unknown keys are refused, so a misspelt key is
/// reported rather than silently ignored; a later section (calendars, more
/// metrics) is added as a new field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// The label `GetPolicy` reports and each ticket records.
    pub version: At<String>,
    /// Share of a response target, in percent, after which an unanswered
    /// ticket is AT_RISK. Kept signed so an out-of-range value is reported by
    /// the check, with its line, rather than as a type error.
    pub at_risk_percent: At<i64>,
    pub support_hours: At<SupportHoursEntry>,
    pub plans: At<Vec<At<PlanEntry>>>,
    pub phone_lines: At<Vec<At<PhoneLineEntry>>>,
    pub priorities: At<Vec<At<PriorityEntry>>>,
    pub rules: At<Vec<At<RuleEntry>>>,
    pub targets: At<TargetsEntry>,
    pub professional_services: At<ProfessionalServicesEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportHoursEntry {
    pub always_open: At<bool>,
    pub description: At<String>,
    pub response_clock: At<String>,
}

/// A plan, by a stable id (what accounts and the API refer to) and the name
/// shown to people.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    pub id: At<String>,
    pub name: At<String>,
    pub channels: At<Vec<At<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneLineEntry {
    pub region: At<String>,
    /// E.164.
    pub number: At<String>,
    pub display_number: At<String>,
    pub support_extension: At<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityEntry {
    pub level: At<String>,
    pub name: At<String>,
    pub meaning: At<String>,
    pub workaround: At<String>,
    pub effort: At<String>,
}

/// A priority rule; an empty or absent condition list matches anything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    pub id: At<String>,
    pub priority: At<String>,
    pub description: At<String>,
    #[serde(default)]
    pub kinds: Vec<At<String>>,
    #[serde(default)]
    pub scopes: Vec<At<String>>,
    #[serde(default)]
    pub workarounds: Vec<At<String>>,
}

/// Plan id → priority level → duration text ("1h", "30m").
pub type TargetTable = BTreeMap<At<String>, At<BTreeMap<At<String>, At<String>>>>;

/// Targets by metric. Today the only metric is the first response; others
/// (next reply, resolution) become sibling tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsEntry {
    pub first_response: At<TargetTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfessionalServicesEntry {
    pub offered: At<Vec<At<String>>>,
}

/// One thing wrong with a document: where (a path such as
/// `plans[2].channels` or `targets.first_response.pro.p1`, and the 1-based
/// line) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "line {}: {}: {}", self.line, path, self.message)
    }
}

/// Every problem found in a document, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub(super) fn new(mut list: Vec<Problem>) -> Self {
        list.sort_by_key(|p| p.line);
        Self(list)
    }

    pub fn list(&self) -> &[Problem] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "the policy document has {count} problem{}",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// The 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Reads the text. A syntax or shape error (bad TOML, a missing or unknown
/// key, a value of the wrong type) stops the reading, so it comes back as a
/// single problem; everything else is left to the check, which lists all.
pub fn parse(text: &str) -> Result<PolicyDocument, Problems> {
    toml::from_str(text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        Problems::new(vec![Problem {
            path: path_at(text, &span),
            line: line_of(text, span.start),
            message: error.message().trim().to_owned(),
        }])
    })
}

/// The path of the entry at `span`, recovered from the text: the enclosing
/// table header (an array-of-tables header counts its entries, as in
/// `plans[2]`) and the key on the span's line. The TOML reader reports a
/// position but not a path; this covers the keys and headers a policy
/// document is made of.
fn path_at(text: &str, span: &Range<usize>) -> String {
    let target_line = line_of(text, span.start);
    let mut table = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut key = None;
    for (index, raw) in text.lines().enumerate() {
        if index + 1 > target_line {
            break;
        }
        let line = raw.trim();
        if let Some(name) = line
            .strip_prefix("[[")
            .and_then(|rest| rest.split("]]").next())
        {
            let name = name.trim().to_owned();
            let count = counts.entry(name.clone()).or_insert(0);
            table = format!("{name}[{count}]");
            *count += 1;
            key = None;
        } else if let Some(name) = line
            .strip_prefix('[')
            .and_then(|rest| rest.split(']').next())
        {
            table = name.trim().to_owned();
            key = None;
        } else if index + 1 == target_line
            && let Some((name, _)) = line.split_once('=')
            && !line.starts_with('#')
        {
            key = Some(name.trim().trim_matches('"').to_owned());
        }
    }
    match (table.is_empty(), key) {
        (_, None) => table,
        (true, Some(key)) => key,
        (false, Some(key)) => format!("{table}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one() {
        let text = "a = 1\nb = 2\n";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_of(text, 100), 3);
    }

    #[test]
    fn the_path_of_a_position_names_the_table_entry_and_key() {
        let text = "version = 1\n[[plans]]\nid = 'a'\n[[plans]]\nid = 'b'\nname = 2\n[targets.first_response]\npro = 3\n";
        let at = |line: usize| {
            let start: usize = text.lines().take(line - 1).map(|l| l.len() + 1).sum();
            path_at(text, &(start..start + 1))
        };
        assert_eq!(at(1), "version");
        assert_eq!(at(2), "plans[0]");
        assert_eq!(at(5), "plans[1].id");
        assert_eq!(at(6), "plans[1].name");
        assert_eq!(at(8), "targets.first_response.pro");
    }
}
