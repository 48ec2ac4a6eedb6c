//! PolicyService's questions: ClassifyPriority, CheckChannel and
//! ComputeDeadline, and the document ValidatePolicyDocument checks.

use super::Violations;
use super::limits::{
    MAX_POLICY_DOCUMENT_BYTES, MAX_PROBLEM_BYTES, MAX_PROBLEM_MESSAGE_BYTES,
    MAX_PROBLEM_PATH_BYTES, MAX_TIMESTAMP_SECONDS, MAX_VIOLATIONS,
};
use super::names::account_from_name;
use super::tickets::impact;
use super::timestamps::timestamp_field;
use crate::api::convert::{channel_from_proto, plan_from_proto, priority_from_proto};
use crate::domain::policy::{Policy, Problems};
use crate::domain::priority::Impact;
use crate::error::{Error, Result};
use crate::proto::pb;

pub fn classify_priority(request: pb::ClassifyPriorityRequest) -> Result<Impact> {
    let mut v = Violations::default();
    let impact = impact(&mut v, "impact.", request.impact);
    v.into_result()?;
    impact.ok_or_else(|| Error::invalid("impact", "is required"))
}

pub struct ChannelQuestion {
    pub subject: PlanOrAccount,
    pub channel: crate::domain::Channel,
}

pub enum PlanOrAccount {
    Plan(crate::domain::Plan),
    Account(String),
}

pub fn check_channel(request: pb::CheckChannelRequest) -> Result<ChannelQuestion> {
    let mut v = Violations::default();
    let channel = v.required_enum("channel", request.channel, channel_from_proto);
    let subject = match (request.account.is_empty(), request.plan) {
        (true, 0) => {
            v.add("account", "set exactly one of account or plan");
            None
        }
        (false, 0) => Some(PlanOrAccount::Account(account_from_name(
            &mut v,
            "account",
            &request.account,
        ))),
        (true, raw) => v
            .required_enum("plan", raw, plan_from_proto)
            .map(PlanOrAccount::Plan),
        (false, _) => {
            v.add("plan", "set exactly one of account or plan");
            None
        }
    };
    v.into_result()?;
    match (subject, channel) {
        (Some(subject), Some(channel)) => Ok(ChannelQuestion { subject, channel }),
        _ => Err(Error::Internal(
            "validation let an incomplete question through".into(),
        )),
    }
}

pub struct DeadlineQuestion {
    pub plan: crate::domain::Plan,
    pub priority: crate::domain::Priority,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

pub fn compute_deadline(
    request: pb::ComputeDeadlineRequest,
    policy: &Policy,
) -> Result<DeadlineQuestion> {
    let mut v = Violations::default();
    let plan = v.required_enum("plan", request.plan, plan_from_proto);
    let priority = v.required_enum("priority", request.priority, priority_from_proto);
    let received_at = timestamp_field(&mut v, "received_at", request.received_at);
    if let (Some(plan), Some(priority), Some(at)) = (plan, priority, received_at)
        && policy.response_due_at(plan, priority, at).timestamp() > MAX_TIMESTAMP_SECONDS
    {
        v.add(
            "received_at",
            "is so late that the deadline would fall after 9999-12-31",
        );
    }
    v.into_result()?;
    match (plan, priority, received_at) {
        (Some(plan), Some(priority), Some(received_at)) => Ok(DeadlineQuestion {
            plan,
            priority,
            received_at,
        }),
        _ => Err(Error::Internal(
            "validation let an incomplete question through".into(),
        )),
    }
}

/// The field a document's problems are named under.
const DOCUMENT: &str = "document";

/// A policy document: read and checked as `Policy::from_document` does, so
/// what it answers is what loading the document would. Every problem comes
/// back as a field violation, `document.` and its path, described as
/// `line N: message`.
pub fn policy_document(request: &pb::ValidatePolicyDocumentRequest) -> Result<Policy> {
    let text = request.document.as_str();
    let mut v = Violations::default();
    if text.trim().is_empty() {
        v.add(DOCUMENT, "is required");
    } else if text.len() > MAX_POLICY_DOCUMENT_BYTES {
        v.add(
            DOCUMENT,
            format!(
                "is {} bytes; at most {MAX_POLICY_DOCUMENT_BYTES} allowed",
                text.len()
            ),
        );
    }
    v.into_result()?;
    Policy::from_document(text).map_err(|problems| {
        let mut v = Violations::default();
        for (field, description) in problem_violations(&problems) {
            v.add(&field, description);
        }
        v.into_result()
            .err()
            .unwrap_or_else(|| Error::Internal("a refused document listed no problem".into()))
    })
}

/// The problems as (field, description) pairs, problems at one path sharing
/// one pair, in document order, within [`MAX_PROBLEM_BYTES`] and
/// [`MAX_VIOLATIONS`]; the problems left out are counted under `document`.
fn problem_violations(problems: &Problems) -> Vec<(String, String)> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for problem in problems.list() {
        let field = if problem.path.is_empty() {
            DOCUMENT.to_owned()
        } else {
            format!("{DOCUMENT}.{}", cut(&problem.path, MAX_PROBLEM_PATH_BYTES))
        };
        let description = format!(
            "line {}: {}",
            problem.line,
            cut(&problem.message, MAX_PROBLEM_MESSAGE_BYTES)
        );
        match grouped.iter_mut().find(|(f, _)| *f == field) {
            Some((_, descriptions)) => descriptions.push(description),
            None => grouped.push((field, vec![description])),
        }
    }
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut bytes = 0;
    let mut left_out = 0;
    for (field, descriptions) in grouped {
        let description = cut(&descriptions.join("; "), 2 * MAX_PROBLEM_MESSAGE_BYTES);
        let cost = field.len() + description.len() + 2;
        if left_out > 0 || listed.len() + 1 >= MAX_VIOLATIONS || bytes + cost > MAX_PROBLEM_BYTES {
            left_out += descriptions.len();
            continue;
        }
        bytes += cost;
        listed.push((field, description));
    }
    if left_out > 0 {
        let note = format!(
            "{left_out} more problem{} not listed here; fix these and validate again",
            if left_out == 1 { "" } else { "s" }
        );
        match listed.iter_mut().find(|(f, _)| f == DOCUMENT) {
            Some((_, description)) => *description = format!("{description}; {note}"),
            None => listed.push((DOCUMENT.to_owned(), note)),
        }
    }
    listed
}

/// `text` cut to at most `max` bytes on a character boundary, `…` marking a cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLISHED: &str = include_str!("../../../policy/published.toml");

    fn refused(document: String) -> Vec<crate::error::FieldViolation> {
        match policy_document(&pb::ValidatePolicyDocumentRequest { document }) {
            Err(Error::InvalidArgument(violations)) => violations,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_published_document_is_valid() {
        let policy = policy_document(&pb::ValidatePolicyDocumentRequest {
            document: PUBLISHED.to_owned(),
        })
        .unwrap();
        assert_eq!(policy.version(), Policy::standard().version());
    }

    #[test]
    fn each_problem_is_named_by_path_and_line() {
        let broken = PUBLISHED
            .replacen("at_risk_percent = 75", "at_risk_percent = 0", 1)
            .replacen(r#"pro = { p1 = "1h""#, r#"pro = { p1 = "0h""#, 1);
        let violations = refused(broken.clone());
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "document.at_risk_percent",
                "document.targets.first_response.pro.p1"
            ]
        );
        let line = broken
            .lines()
            .position(|l| l.starts_with("at_risk_percent"))
            .unwrap()
            + 1;
        assert!(
            violations[0]
                .description
                .starts_with(&format!("line {line}: ")),
            "{violations:?}"
        );
    }

    #[test]
    fn empty_and_oversized_documents_are_refused_before_reading() {
        assert_eq!(refused(" \n".into())[0].description, "is required");
        let big = format!("{PUBLISHED}\n#{}", "x".repeat(MAX_POLICY_DOCUMENT_BYTES));
        let violations = refused(big);
        assert_eq!(violations[0].field, "document");
        assert!(violations[0].description.contains("at most 131072"));
    }

    #[test]
    fn problems_past_what_one_answer_carries_are_counted() {
        // Forty unknown plans without channels or targets, one with an id
        // of 10,000 characters: well over a hundred problems.
        let mut broken = PUBLISHED.to_owned();
        for i in 0..40 {
            broken.push_str(&format!(
                "\n[[plans]]\nid = \"nope-{i}\"\nname = \"N\"\nchannels = []\n"
            ));
        }
        broken.push_str(&format!(
            "\n[[plans]]\nid = \"{}\"\nname = \"L\"\nchannels = []\n",
            "z".repeat(10_000)
        ));
        let violations = refused(broken);
        let total: usize = violations
            .iter()
            .map(|v| v.field.len() + v.description.len())
            .sum();
        assert!(total <= MAX_PROBLEM_BYTES + 200, "{total}: {violations:?}");
        assert!(violations.len() <= MAX_VIOLATIONS);
        let last = violations.last().unwrap();
        assert_eq!(last.field, "document");
        assert!(
            last.description.contains("more problems not listed"),
            "{last:?}"
        );
        assert!(
            violations
                .iter()
                .all(|v| v.description.len() <= 2 * MAX_PROBLEM_MESSAGE_BYTES + 100),
            "{violations:?}"
        );
    }

    #[test]
    fn cutting_keeps_characters_whole() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééééé", 7), "éé…");
        assert!(cut(&"🎥".repeat(100), 50).len() <= 50);
    }
}
