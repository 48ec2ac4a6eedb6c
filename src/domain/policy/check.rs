//! Validation of a policy document: every entry is checked and every problem
//! is collected (not just the first), each named by its path and line. A
//! document without problems becomes the [`PolicyParts`] a [`super::Policy`]
//! is built from.

use std::collections::BTreeSet;

use chrono::Duration;

use super::document::{
    At, PhoneLineEntry, PlanEntry, PolicyDocument, PriorityEntry, Problem, Problems, RuleEntry,
    TargetTable, line_of,
};
use super::{Channel, PhoneLine, Plan, PolicyParts, Priority, PriorityDefinition, Region};
use super::{SupportHours, is_e164};
use crate::domain::priority::{Impact, ImpactScope, PriorityRule, RequestKind, Workaround};
use crate::domain::service_request::ServiceKind;

/// Checks a read document; `text` is what it was read from (for lines).
pub fn check(text: &str, doc: PolicyDocument) -> Result<PolicyParts, Problems> {
    let mut checker = Checker {
        text,
        problems: Vec::new(),
    };
    let parts = checker.parts(doc);
    if checker.problems.is_empty() {
        Ok(parts)
    } else {
        Err(Problems::new(checker.problems))
    }
}

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

/// Where a value stands, for a problem that names it.
fn start<T>(value: &At<T>) -> usize {
    value.span().start
}

impl Checker<'_> {
    fn report(&mut self, path: impl Into<String>, offset: usize, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            line: line_of(self.text, offset),
            message: message.into(),
        });
    }

    /// A non-empty text value.
    fn text_value(&mut self, path: &str, value: At<String>) -> String {
        if value.get_ref().trim().is_empty() {
            self.report(path, start(&value), "must not be empty");
        }
        value.into_inner()
    }

    /// A name from a closed set (`parse`), reporting anything else together
    /// with the names that are allowed.
    fn name<T: Copy + std::fmt::Display>(
        &mut self,
        path: &str,
        value: &At<String>,
        what: &str,
        all: &[T],
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let parsed = parse(value.get_ref());
        if parsed.is_none() {
            let allowed: Vec<String> = all.iter().map(|v| v.to_string()).collect();
            self.report(
                path,
                start(value),
                format!(
                    "unknown {what} {:?} (one of: {})",
                    value.get_ref(),
                    allowed.join(", ")
                ),
            );
        }
        parsed
    }

    fn parts(&mut self, doc: PolicyDocument) -> PolicyParts {
        let version = self.text_value("version", doc.version);

        let at_risk_percent = {
            let value = *doc.at_risk_percent.get_ref();
            if (1..=99).contains(&value) {
                value as u8
            } else {
                self.report(
                    "at_risk_percent",
                    start(&doc.at_risk_percent),
                    format!("must be between 1 and 99 (percent of the target), not {value}"),
                );
                0
            }
        };

        let hours = doc.support_hours.into_inner();
        if !*hours.always_open.get_ref() {
            // Deadlines run on calendar time; business-hours calendars are a
            // later section of the document.
            self.report(
                "support_hours.always_open",
                start(&hours.always_open),
                "only round-the-clock support (true) is supported: deadlines run on calendar time",
            );
        }
        let hours = SupportHours {
            always_open: *hours.always_open.get_ref(),
            description: self.text_value("support_hours.description", hours.description),
            response_clock: self.text_value("support_hours.response_clock", hours.response_clock),
        };

        let plans = self.plans(doc.plans);
        let targets = self.targets(doc.targets.into_inner().first_response, &plans);
        let phone_lines = self.phone_lines(doc.phone_lines);
        let priorities = self.priorities(doc.priorities);
        let rules = self.rules(doc.rules);
        let professional_services =
            self.professional_services(doc.professional_services.into_inner().offered);

        PolicyParts {
            version,
            channels: plans
                .iter()
                .filter_map(|plan| Some((plan.plan?, plan.channels.clone())))
                .collect(),
            targets,
            phone_lines,
            priorities,
            rules,
            hours,
            at_risk_percent,
            professional_services,
        }
    }

    fn plans(&mut self, plans: At<Vec<At<PlanEntry>>>) -> Vec<CheckedPlan> {
        let plans_at = start(&plans);
        let mut checked: Vec<CheckedPlan> = Vec::new();
        for (index, entry) in plans.into_inner().into_iter().enumerate() {
            let path = format!("plans[{index}]");
            let entry_at = start(&entry);
            let entry = entry.into_inner();
            let id = entry.id.get_ref().clone();
            if id.trim().is_empty() {
                self.report(format!("{path}.id"), start(&entry.id), "must not be empty");
            } else if let Some(first) = checked.iter().find(|p| p.id == id) {
                self.report(
                    format!("{path}.id"),
                    start(&entry.id),
                    format!(
                        "plan id {id:?} is already used by {} on line {}",
                        first.path, first.line
                    ),
                );
            }
            // Plans are still a closed set in the service, so an id must name
            // one of them. This check goes when plans become data.
            let plan = self.name(
                &format!("{path}.id"),
                &entry.id,
                "plan",
                Plan::ALL,
                Plan::parse,
            );
            self.text_value(&format!("{path}.name"), entry.name);
            let channels_path = format!("{path}.channels");
            if entry.channels.get_ref().is_empty() {
                self.report(
                    &channels_path,
                    start(&entry.channels),
                    format!("plan {id:?} has no channel: customers could not reach support"),
                );
            }
            let mut channels = Vec::new();
            for (i, value) in entry.channels.get_ref().iter().enumerate() {
                let channel_path = format!("{channels_path}[{i}]");
                if let Some(channel) = self.name(
                    &channel_path,
                    value,
                    "channel",
                    Channel::ALL,
                    Channel::parse,
                ) {
                    if channels.contains(&channel) {
                        self.report(
                            &channel_path,
                            start(value),
                            format!("channel {channel} is listed twice"),
                        );
                    } else {
                        channels.push(channel);
                    }
                }
            }
            checked.push(CheckedPlan {
                id,
                plan,
                channels,
                path,
                line: line_of(self.text, entry_at),
            });
        }
        for plan in Plan::ALL {
            if !checked.iter().any(|p| p.plan == Some(*plan)) {
                self.report(
                    "plans",
                    plans_at,
                    format!(
                        "plan \"{plan}\" is missing: every plan accounts can have must be listed"
                    ),
                );
            }
        }
        checked
    }

    fn targets(
        &mut self,
        table: At<TargetTable>,
        plans: &[CheckedPlan],
    ) -> Vec<(Vec<Plan>, [Duration; 4])> {
        const PATH: &str = "targets.first_response";
        let table_at = start(&table);
        let table = table.into_inner();
        let mut rows = Vec::new();
        for (plan_id, row) in &table {
            let path = format!("{PATH}.{}", plan_id.get_ref());
            let plan = plans.iter().find(|p| &p.id == plan_id.get_ref());
            if plan.is_none() {
                self.report(
                    &path,
                    start(plan_id),
                    format!("targets for unknown plan {:?}", plan_id.get_ref()),
                );
            }
            let mut durations: [Option<Duration>; 4] = [None; 4];
            for (level, value) in row.get_ref() {
                let cell = format!("{path}.{}", level.get_ref());
                let Some(priority) =
                    self.name(&cell, level, "priority", Priority::ALL, Priority::parse)
                else {
                    continue;
                };
                match parse_duration(value.get_ref()) {
                    Ok(d) if d > Duration::zero() => {
                        durations[priority_index(priority)] = Some(d);
                    }
                    Ok(_) => self.report(
                        &cell,
                        start(value),
                        format!("a target of {:?} is not positive", value.get_ref()),
                    ),
                    Err(why) => self.report(&cell, start(value), why),
                }
            }
            let mut complete = true;
            for priority in Priority::ALL {
                let index = priority_index(*priority);
                let present = row
                    .get_ref()
                    .keys()
                    .any(|k| Priority::parse(k.get_ref()) == Some(*priority));
                if !present {
                    complete = false;
                    self.report(
                        &path,
                        start(row),
                        format!("no target for {priority}: every priority needs one"),
                    );
                } else if durations[index].is_none() {
                    complete = false;
                }
            }
            if let (
                Some(CheckedPlan {
                    plan: Some(plan), ..
                }),
                true,
            ) = (plan, complete)
            {
                rows.push((vec![*plan], durations.map(|d| d.unwrap_or_default())));
            }
        }
        for plan in plans {
            if !plan.id.is_empty() && !table.keys().any(|k| k.get_ref() == &plan.id) {
                self.report(
                    format!("{PATH}.{}", plan.id),
                    table_at,
                    format!(
                        "plan {:?} ({} on line {}) has no targets",
                        plan.id, plan.path, plan.line
                    ),
                );
            }
        }
        rows
    }

    fn phone_lines(&mut self, lines: At<Vec<At<PhoneLineEntry>>>) -> Vec<PhoneLine> {
        let mut checked: Vec<(PhoneLine, String, usize)> = Vec::new();
        for (index, entry) in lines.into_inner().into_iter().enumerate() {
            let path = format!("phone_lines[{index}]");
            let entry = entry.into_inner();
            let region = self.name(
                &format!("{path}.region"),
                &entry.region,
                "region",
                Region::ALL,
                Region::parse,
            );
            let number = entry.number.get_ref().clone();
            let number_path = format!("{path}.number");
            let number_line = line_of(self.text, start(&entry.number));
            if !is_e164(&number) {
                self.report(
                    &number_path,
                    start(&entry.number),
                    format!("{number:?} is not an E.164 number (+, then 8 to 15 digits)"),
                );
            } else if let Some((_, first, line)) = checked.iter().find(|(l, ..)| l.number == number)
            {
                self.report(
                    &number_path,
                    start(&entry.number),
                    format!("{number} is already listed as {first} on line {line}"),
                );
            }
            let display: String = entry
                .display_number
                .get_ref()
                .chars()
                .filter(|c| *c != ' ')
                .collect();
            if display != number {
                self.report(
                    format!("{path}.display_number"),
                    start(&entry.display_number),
                    format!(
                        "{:?} does not spell the number {number}",
                        entry.display_number.get_ref()
                    ),
                );
            }
            let extension = entry.support_extension.get_ref();
            if extension.is_empty() || !extension.bytes().all(|b| b.is_ascii_digit()) {
                self.report(
                    format!("{path}.support_extension"),
                    start(&entry.support_extension),
                    format!("{extension:?} is not a menu extension (digits)"),
                );
            }
            if let Some(region) = region {
                checked.push((
                    PhoneLine {
                        region,
                        number,
                        display_number: entry.display_number.into_inner(),
                        support_extension: entry.support_extension.into_inner(),
                    },
                    number_path,
                    number_line,
                ));
            }
        }
        checked.into_iter().map(|(line, ..)| line).collect()
    }

    fn priorities(&mut self, entries: At<Vec<At<PriorityEntry>>>) -> Vec<PriorityDefinition> {
        let list_at = start(&entries);
        let mut definitions: Vec<PriorityDefinition> = Vec::new();
        for (index, entry) in entries.into_inner().into_iter().enumerate() {
            let path = format!("priorities[{index}]");
            let entry = entry.into_inner();
            let level_path = format!("{path}.level");
            let level = self.name(
                &level_path,
                &entry.level,
                "priority",
                Priority::ALL,
                Priority::parse,
            );
            if let Some(level) = level
                && definitions.iter().any(|d| d.priority == level)
            {
                self.report(
                    &level_path,
                    start(&entry.level),
                    format!("{level} is defined twice"),
                );
            }
            let definition = PriorityDefinition {
                priority: level.unwrap_or(Priority::P4),
                name: self.text_value(&format!("{path}.name"), entry.name),
                meaning: self.text_value(&format!("{path}.meaning"), entry.meaning),
                workaround: self.text_value(&format!("{path}.workaround"), entry.workaround),
                effort: self.text_value(&format!("{path}.effort"), entry.effort),
            };
            if level.is_some() {
                definitions.push(definition);
            }
        }
        for priority in Priority::ALL {
            if !definitions.iter().any(|d| d.priority == *priority) {
                self.report("priorities", list_at, format!("{priority} is not defined"));
            }
        }
        definitions
    }

    fn rules(&mut self, entries: At<Vec<At<RuleEntry>>>) -> Vec<PriorityRule> {
        let list_at = start(&entries);
        let entries = entries.into_inner();
        if entries.is_empty() {
            self.report("rules", list_at, "there is no priority rule");
        }
        // Each rule with the path and line it came from; None when one of its
        // references is unknown (already reported), which leaves it out of
        // the reachability check below.
        let mut checked: Vec<(Option<PriorityRule>, String, usize)> = Vec::new();
        let mut ids: Vec<(String, String, usize)> = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let path = format!("rules[{index}]");
            let entry_at = start(&entry);
            let entry = entry.into_inner();
            let id = entry.id.get_ref().clone();
            let entry_id = id.clone();
            if id.trim().is_empty() {
                self.report(format!("{path}.id"), start(&entry.id), "must not be empty");
            } else if let Some((_, first, line)) = ids.iter().find(|(seen, ..)| *seen == id) {
                self.report(
                    format!("{path}.id"),
                    start(&entry.id),
                    format!("rule id {id:?} is already used by {first} on line {line}"),
                );
            }
            let priority = self.name(
                &format!("{path}.priority"),
                &entry.priority,
                "priority",
                Priority::ALL,
                Priority::parse,
            );
            let kinds = self.names(
                &path,
                "kinds",
                &entry.kinds,
                "request kind",
                RequestKind::ALL,
                RequestKind::parse,
            );
            let scopes = self.names(
                &path,
                "scopes",
                &entry.scopes,
                "impact scope",
                ImpactScope::ALL,
                ImpactScope::parse,
            );
            let workarounds = self.names(
                &path,
                "workarounds",
                &entry.workarounds,
                "workaround",
                Workaround::ALL,
                Workaround::parse,
            );
            let description = self.text_value(&format!("{path}.description"), entry.description);
            let rule = match (priority, kinds, scopes, workarounds) {
                (Some(priority), Some(kinds), Some(scopes), Some(workarounds)) => {
                    Some(PriorityRule {
                        id,
                        description,
                        priority,
                        kinds,
                        scopes,
                        workarounds,
                    })
                }
                _ => None,
            };
            ids.push((entry_id, path.clone(), line_of(self.text, entry_at)));
            checked.push((rule, path, line_of(self.text, entry_at)));
        }
        self.reachability(&checked);
        checked.into_iter().filter_map(|(rule, ..)| rule).collect()
    }

    /// Every condition value of one list, or None if any is unknown.
    fn names<T: Copy + std::fmt::Display>(
        &mut self,
        path: &str,
        field: &str,
        values: &[At<String>],
        what: &str,
        all: &[T],
        parse: fn(&str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut parsed = Some(Vec::new());
        for (i, value) in values.iter().enumerate() {
            let name = self.name(&format!("{path}.{field}[{i}]"), value, what, all, parse);
            match (name, parsed.as_mut()) {
                (Some(name), Some(list)) => list.push(name),
                _ => parsed = None,
            }
        }
        parsed
    }

    /// A rule can never match when no complete impact satisfies all its
    /// conditions (only a problem states a scope, and only an outage or a
    /// degradation states a workaround; see [`Impact::new`]), or when every
    /// impact it matches is already taken by an earlier rule (rules are
    /// tried in order and the first match wins). Complete impacts are a
    /// small finite set, so both are decided exactly by trying each one.
    fn reachability(&mut self, rules: &[(Option<PriorityRule>, String, usize)]) {
        let impacts = Impact::every_complete();
        let mut taken_by: Vec<Option<&str>> = vec![None; impacts.len()];
        for (rule, path, line) in rules {
            let Some(rule) = rule else { continue };
            let mine: Vec<usize> = (0..impacts.len())
                .filter(|i| rule.matches(&impacts[*i]))
                .collect();
            let offset = line_start(self.text, *line);
            if mine.is_empty() {
                self.report(
                    path.clone(),
                    offset,
                    format!(
                        "rule {:?} can never match: no complete impact meets all its conditions \
                         (only a problem has a scope; only a service_down or degraded problem \
                         states a workaround)",
                        rule.id
                    ),
                );
            } else if mine.iter().all(|i| taken_by[*i].is_some()) {
                let earlier: BTreeSet<&str> = mine.iter().filter_map(|i| taken_by[*i]).collect();
                let earlier: Vec<&str> = earlier.into_iter().collect();
                self.report(
                    path.clone(),
                    offset,
                    format!(
                        "rule {:?} can never match: every impact it matches is taken first by \
                         the earlier rule(s) {}",
                        rule.id,
                        earlier.join(", ")
                    ),
                );
            }
            for i in mine {
                taken_by[i].get_or_insert(rule.id.as_str());
            }
        }
    }

    fn professional_services(&mut self, offered: At<Vec<At<String>>>) -> Vec<ServiceKind> {
        let mut kinds = Vec::new();
        for (i, value) in offered.get_ref().iter().enumerate() {
            let path = format!("professional_services.offered[{i}]");
            if let Some(kind) = self.name(
                &path,
                value,
                "service",
                ServiceKind::ALL,
                ServiceKind::parse,
            ) {
                if kinds.contains(&kind) {
                    self.report(&path, start(value), format!("{kind} is listed twice"));
                } else {
                    kinds.push(kind);
                }
            }
        }
        kinds
    }
}

/// A plan entry as checked: its id, the service's plan it names (None when
/// unknown) and its valid channels.
struct CheckedPlan {
    id: String,
    plan: Option<Plan>,
    channels: Vec<Channel>,
    path: String,
    line: usize,
}

fn priority_index(priority: Priority) -> usize {
    Priority::ALL
        .iter()
        .position(|p| *p == priority)
        .expect("every priority is in ALL")
}

/// The byte offset where 1-based `line` starts.
fn line_start(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}

/// A duration written as whole numbers with units, largest first: `"1h"`,
/// `"24h"`, `"30m"`, `"1h30m"`, `"2d"`, `"90s"`. A leading `-` is read (so a
/// negative target is reported as not positive rather than as malformed).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let malformed = || {
        format!(
            "{text:?} is not a duration: write whole numbers with units d, h, m or s, \
             such as \"1h\", \"30m\" or \"1h30m\""
        )
    };
    let (negative, mut rest) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.trim()),
    };
    if rest.is_empty() {
        return Err(malformed());
    }
    let mut total = Duration::zero();
    let mut last_unit = usize::MAX;
    const UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(malformed());
        }
        let amount: i64 = rest[..digits].parse().map_err(|_| malformed())?;
        let unit = rest[digits..].chars().next().ok_or_else(malformed)?;
        let position = UNITS
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(malformed)?;
        if last_unit != usize::MAX && position <= last_unit {
            return Err(malformed());
        }
        last_unit = position;
        let seconds = amount
            .checked_mul(UNITS[position].1)
            .ok_or_else(malformed)?;
        total = Duration::try_seconds(seconds)
            .and_then(|d| total.checked_add(&d))
            .ok_or_else(malformed)?;
        rest = &rest[digits + unit.len_utf8()..];
    }
    Ok(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    //! Each test breaks the published document in one place (or several)
    //! and asserts the path and line of what is reported.

    use super::*;
    use crate::domain::policy::{PUBLISHED, Policy};

    /// The published document with `from` (which must occur exactly once)
    /// replaced by `to`.
    fn broken(from: &str, to: &str) -> String {
        assert_eq!(PUBLISHED.matches(from).count(), 1, "{from:?} occurs once");
        PUBLISHED.replacen(from, to, 1)
    }

    /// The 1-based line of the first line of `text` containing `needle`.
    fn line_with(text: &str, needle: &str) -> usize {
        text.lines()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} is in the document"))
            + 1
    }

    fn problems(text: &str) -> Vec<Problem> {
        Policy::from_document(text)
            .expect_err("the document is refused")
            .list()
            .to_vec()
    }

    /// Asserts that `text` is refused with a problem at `path` and `line`
    /// whose message contains `says`, and returns every problem.
    #[track_caller]
    fn assert_problem(text: &str, path: &str, line: usize, says: &str) -> Vec<Problem> {
        let found = problems(text);
        assert!(
            found
                .iter()
                .any(|p| p.path == path && p.line == line && p.message.contains(says)),
            "expected {path} on line {line} saying {says:?}, got:\n{}",
            found
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        found
    }

    #[test]
    fn the_published_document_has_no_problems() {
        Policy::from_document(PUBLISHED).unwrap();
    }

    #[test]
    fn a_target_of_zero_is_refused() {
        let from = r#"pro = { p1 = "1h""#;
        let text = broken(from, r#"pro = { p1 = "0h""#);
        let found = assert_problem(
            &text,
            "targets.first_response.pro.p1",
            line_with(&text, r#"pro = { p1 = "0h""#),
            "not positive",
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_negative_target_is_refused() {
        let text = broken(
            r#"free = { p1 = "24h", p2 = "24h""#,
            r#"free = { p1 = "24h", p2 = "-24h""#,
        );
        assert_problem(
            &text,
            "targets.first_response.free.p2",
            line_with(&text, "-24h"),
            "not positive",
        );
    }

    #[test]
    fn a_malformed_duration_is_refused() {
        let text = broken(
            r#"api = { p1 = "1h", p2 = "4h""#,
            r#"api = { p1 = "1h", p2 = "4 hours""#,
        );
        assert_problem(
            &text,
            "targets.first_response.api.p2",
            line_with(&text, "\"4 hours\""),
            "is not a duration",
        );
    }

    #[test]
    fn a_plan_with_no_channel_is_refused() {
        let text = broken(
            "id = \"free\"\nname = \"Free\"\nchannels = [\"web_form\", \"chat\"]",
            "id = \"free\"\nname = \"Free\"\nchannels = []",
        );
        let line = line_with(&text, "channels = []");
        let found = assert_problem(&text, "plans[4].channels", line, "has no channel");
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_plan_without_a_target_for_every_priority_is_refused() {
        let text = broken(
            r#"free = { p1 = "24h", p2 = "24h", p3 = "24h", p4 = "24h" }"#,
            r#"free = { p1 = "24h", p2 = "24h", p3 = "24h" }"#,
        );
        assert_problem(
            &text,
            "targets.first_response.free",
            line_with(&text, "free = {"),
            "no target for p4",
        );
    }

    #[test]
    fn a_plan_with_no_targets_at_all_is_refused() {
        let text = broken(
            "free = { p1 = \"24h\", p2 = \"24h\", p3 = \"24h\", p4 = \"24h\" }\n",
            "",
        );
        assert_problem(
            &text,
            "targets.first_response.free",
            line_with(&text, "[targets.first_response]"),
            "has no targets",
        );
    }

    #[test]
    fn a_duplicated_plan_id_is_refused() {
        let text = broken("id = \"education\"", "id = \"business\"");
        let line = line_with(&text, "name = \"Education\"") - 1;
        assert_problem(&text, "plans[1].id", line, "already used by plans[0]");
    }

    #[test]
    fn an_unknown_channel_is_refused() {
        let text = broken(
            "id = \"api\"\nname = \"API\"\nchannels = [\"web_form\", \"chat\", \"phone\"]",
            "id = \"api\"\nname = \"API\"\nchannels = [\"web_form\", \"chat\", \"fax\"]",
        );
        assert_problem(
            &text,
            "plans[2].channels[2]",
            line_with(&text, "\"fax\""),
            "unknown channel \"fax\"",
        );
    }

    #[test]
    fn a_channel_listed_twice_is_refused() {
        let text = broken(
            "id = \"pro\"\nname = \"Pro\"\nchannels = [\"web_form\", \"chat\"]",
            "id = \"pro\"\nname = \"Pro\"\nchannels = [\"web_form\", \"chat\", \"chat\"]",
        );
        assert_problem(
            &text,
            "plans[3].channels[2]",
            line_with(&text, "\"chat\", \"chat\""),
            "listed twice",
        );
    }

    #[test]
    fn targets_for_an_unknown_plan_are_refused() {
        let text = broken(
            "[targets.first_response]\n",
            "[targets.first_response]\ngold = { p1 = \"30m\", p2 = \"1h\", p3 = \"4h\", p4 = \"8h\" }\n",
        );
        assert_problem(
            &text,
            "targets.first_response.gold",
            line_with(&text, "gold = {"),
            "unknown plan \"gold\"",
        );
    }

    #[test]
    fn an_unknown_priority_in_the_targets_is_refused() {
        let text = broken(
            r#"business = { p1 = "1h","#,
            r#"business = { p0 = "1h", p1 = "1h","#,
        );
        assert_problem(
            &text,
            "targets.first_response.business.p0",
            line_with(&text, "p0 ="),
            "unknown priority \"p0\"",
        );
    }

    #[test]
    fn a_plan_id_the_service_does_not_know_is_refused_while_plans_are_a_fixed_set() {
        let text = broken("id = \"education\"", "id = \"enterprise\"");
        let line = line_with(&text, "id = \"enterprise\"");
        let found = assert_problem(&text, "plans[1].id", line, "unknown plan \"enterprise\"");
        // The targets still name education, which is no longer a plan, and
        // the service's education plan has no entry.
        assert!(
            found
                .iter()
                .any(|p| p.path == "targets.first_response.education")
        );
        assert!(
            found
                .iter()
                .any(|p| p.path == "plans" && p.message.contains("plan \"education\" is missing"))
        );
    }

    #[test]
    fn an_unknown_priority_in_a_rule_is_refused() {
        let text = broken(
            "id = \"service-down-no-workaround\"\npriority = \"p1\"",
            "id = \"service-down-no-workaround\"\npriority = \"p0\"",
        );
        assert_problem(
            &text,
            "rules[1].priority",
            line_with(&text, "priority = \"p0\""),
            "unknown priority",
        );
    }

    #[test]
    fn an_unknown_rule_condition_is_refused() {
        let text = broken(
            "scopes = [\"function_impaired\"]",
            "scopes = [\"function_impaired\", \"outage\"]",
        );
        assert_problem(
            &text,
            "rules[5].scopes[1]",
            line_with(&text, "\"outage\""),
            "unknown impact scope \"outage\"",
        );
    }

    #[test]
    fn a_rule_shadowed_by_an_earlier_broader_rule_is_refused() {
        // Without its kinds, the first rule matches every impact: no later
        // rule can ever decide.
        let text = broken(
            "kinds = [\"information\", \"assistance\", \"feature\", \"change\", \"prerelease_access\"]\n",
            "",
        );
        let found = problems(&text);
        let shadowed: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            shadowed,
            [
                "rules[1]", "rules[2]", "rules[3]", "rules[4]", "rules[5]", "rules[6]"
            ]
        );
        assert!(found.iter().all(|p| {
            p.message
                .contains("taken first by the earlier rule(s) request-not-a-problem")
        }));
        assert_eq!(
            found[0].line,
            line_with(&text, "id = \"service-down-no-workaround\"") - 1
        );
    }

    #[test]
    fn a_rule_whose_impacts_earlier_rules_share_out_is_refused() {
        // Service-down problems are all decided by rules 1, 2 and 4 before
        // a rule for service-down problems in general is reached.
        let text = broken(
            "scopes = [\"function_impaired\"]",
            "scopes = [\"service_down\"]",
        );
        let line = line_with(&text, "id = \"function-impaired\"") - 1;
        assert_problem(
            &text,
            "rules[5]",
            line,
            "full-workaround, service-down-no-workaround, service-down-partial-workaround",
        );
    }

    #[test]
    fn a_rule_with_an_impossible_condition_is_refused() {
        // A minimal problem states no workaround, so this rule matches nothing.
        let text = broken(
            "scopes = [\"minimal\"]",
            "scopes = [\"minimal\"]\nworkarounds = [\"none\"]",
        );
        let line = line_with(&text, "id = \"minimal-effect\"") - 1;
        assert_problem(
            &text,
            "rules[6]",
            line,
            "no complete impact meets all its conditions",
        );

        // Only a problem has a scope.
        let text = broken(
            "kinds = [\"information\", \"assistance\", \"feature\", \"change\", \"prerelease_access\"]",
            "kinds = [\"information\"]\nscopes = [\"degraded\"]",
        );
        let line = line_with(&text, "id = \"request-not-a-problem\"") - 1;
        assert_problem(
            &text,
            "rules[0]",
            line,
            "no complete impact meets all its conditions",
        );
    }

    #[test]
    fn a_duplicated_rule_id_is_refused() {
        let text = broken("id = \"minimal-effect\"", "id = \"function-impaired\"");
        let line = line_with(&text, "scopes = [\"minimal\"]") - 4;
        assert_problem(&text, "rules[6].id", line, "already used by rules[5]");
    }

    #[test]
    fn an_at_risk_percent_outside_1_to_99_is_refused() {
        for value in ["0", "100", "-5"] {
            let text = broken(
                "at_risk_percent = 75",
                &format!("at_risk_percent = {value}"),
            );
            assert_problem(
                &text,
                "at_risk_percent",
                line_with(&text, "at_risk_percent ="),
                "between 1 and 99",
            );
        }
    }

    #[test]
    fn a_duplicated_phone_number_is_refused() {
        let text = broken(
            "number = \"+16503976096\"\ndisplay_number = \"+1 650 397 6096\"",
            "number = \"+18887999666\"\ndisplay_number = \"+1 888 799 9666\"",
        );
        let line = line_with(&text, "number = \"+18887999666\"");
        let second = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("number = \"+18887999666\""))
            .nth(1)
            .unwrap()
            .0
            + 1;
        assert_problem(
            &text,
            "phone_lines[1].number",
            second,
            &format!("already listed as phone_lines[0].number on line {line}"),
        );
    }

    #[test]
    fn a_malformed_phone_number_is_refused() {
        let text = broken("number = \"+611800768027\"", "number = \"611800768027\"");
        let found = assert_problem(
            &text,
            "phone_lines[2].number",
            line_with(&text, "number = \"611800768027\""),
            "not an E.164 number",
        );
        // Its printed form no longer spells it either.
        assert!(
            found
                .iter()
                .any(|p| p.path == "phone_lines[2].display_number")
        );
    }

    #[test]
    fn a_display_number_that_does_not_spell_the_number_is_refused() {
        let text = broken("\"+44 20 3890 5445\"", "\"+44 20 3890 5446\"");
        assert_problem(
            &text,
            "phone_lines[4].display_number",
            line_with(&text, "5446"),
            "does not spell",
        );
    }

    #[test]
    fn an_unknown_region_is_refused() {
        let text = broken("region = \"au\"", "region = \"nz\"");
        assert_problem(
            &text,
            "phone_lines[2].region",
            line_with(&text, "region = \"nz\""),
            "unknown region",
        );
    }

    #[test]
    fn a_priority_defined_twice_or_not_at_all_is_refused() {
        let text = broken("level = \"p4\"", "level = \"p3\"");
        let found = assert_problem(
            &text,
            "priorities[3].level",
            line_with(&text, "name = \"Low\"") - 1,
            "p3 is defined twice",
        );
        assert!(
            found
                .iter()
                .any(|p| p.path == "priorities" && p.message == "p4 is not defined")
        );
    }

    #[test]
    fn business_hours_are_refused_until_calendars_exist() {
        let text = broken("\nalways_open = true", "\nalways_open = false");
        assert_problem(
            &text,
            "support_hours.always_open",
            line_with(&text, "always_open = false"),
            "only round-the-clock",
        );
    }

    #[test]
    fn an_unknown_or_repeated_professional_service_is_refused() {
        let text = broken(
            "\"development\"]",
            "\"development\", \"catering\", \"training\"]",
        );
        let line = line_with(&text, "\"catering\"");
        let found = assert_problem(
            &text,
            "professional_services.offered[6]",
            line,
            "unknown service",
        );
        assert!(
            found
                .iter()
                .any(|p| p.path == "professional_services.offered[7]"
                    && p.message.contains("listed twice"))
        );
    }

    #[test]
    fn an_empty_name_is_refused() {
        let text = broken("name = \"Pro\"", "name = \" \"");
        assert_problem(
            &text,
            "plans[3].name",
            line_with(&text, "name = \" \""),
            "must not be empty",
        );
    }

    #[test]
    fn a_misspelt_key_is_named_with_its_line() {
        let text = broken(
            "at_risk_percent = 75",
            "at_risk_percent = 75\nat_risk_pct = 80",
        );
        let found = assert_problem(
            &text,
            "at_risk_pct",
            line_with(&text, "at_risk_pct"),
            "unknown field `at_risk_pct`",
        );
        assert_eq!(found.len(), 1, "a shape error stops the reading");
    }

    #[test]
    fn a_missing_key_names_its_entry() {
        let text = broken("name = \"Education\"\n", "");
        let line = line_with(&text, "id = \"education\"") - 1;
        assert_problem(&text, "plans[1]", line, "missing field `name`");
    }

    #[test]
    fn a_toml_syntax_error_names_its_line() {
        let text = broken("id = \"pro\"", "id = \"pro");
        assert_problem(&text, "plans[3].id", line_with(&text, "id = \"pro"), "");
    }

    #[test]
    fn a_broken_document_names_the_line_of_the_bad_entry() {
        // Lines counted by hand: the appended plan starts on the line after
        // the published document's last, after one blank line.
        let published_lines = PUBLISHED.lines().count();
        let text =
            format!("{PUBLISHED}\n[[plans]]\nid = \"pro\"\nname = \"Pro again\"\nchannels = []\n");
        let found = problems(&text);
        let id_line = published_lines + 3;
        let channels_line = published_lines + 5;
        assert_eq!(
            found
                .iter()
                .map(|p| (p.path.as_str(), p.line))
                .collect::<Vec<_>>(),
            [
                ("plans[5].id", id_line),
                ("plans[5].channels", channels_line)
            ]
        );
        assert!(
            found[0]
                .message
                .contains("already used by plans[3] on line")
        );
        assert_eq!(
            found[1].to_string(),
            format!(
                "line {channels_line}: plans[5].channels: plan \"pro\" has no channel: \
                 customers could not reach support"
            )
        );
    }

    #[test]
    fn every_problem_of_a_document_is_reported_at_once() {
        let mut text = PUBLISHED.to_owned();
        for (from, to) in [
            ("at_risk_percent = 75", "at_risk_percent = 0"),
            (
                "id = \"free\"\nname = \"Free\"\nchannels = [\"web_form\", \"chat\"]",
                "id = \"free\"\nname = \"Free\"\nchannels = []",
            ),
            ("id = \"education\"", "id = \"business\""),
            ("number = \"+611800768027\"", "number = \"+448003687314\""),
            (
                "display_number = \"+61 1800 768 027\"",
                "display_number = \"+44 800 368 7314\"",
            ),
            (
                "scopes = [\"minimal\"]",
                "scopes = [\"minimal\"]\nworkarounds = [\"none\"]",
            ),
            (r#"pro = { p1 = "1h""#, r#"pro = { p1 = "0m""#),
        ] {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            text = text.replacen(from, to, 1);
        }
        let found = problems(&text);
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "at_risk_percent",
            "plans[4].channels",
            "plans[1].id",
            "phone_lines[3].number",
            "rules[6]",
            "targets.first_response.pro.p1",
        ] {
            assert!(paths.contains(&expected), "{expected} in {paths:?}");
        }
        let lines: Vec<usize> = found.iter().map(|p| p.line).collect();
        assert!(lines.is_sorted(), "in document order: {lines:?}");
        let report = Policy::from_document(&text).unwrap_err().to_string();
        assert!(report.starts_with(&format!("the policy document has {} problems", found.len())));
    }

    #[test]
    fn durations_are_read_with_units() {
        let d = |text| parse_duration(text).unwrap();
        assert_eq!(d("1h"), Duration::hours(1));
        assert_eq!(d("24h"), Duration::hours(24));
        assert_eq!(d("30m"), Duration::minutes(30));
        assert_eq!(d("1h30m"), Duration::minutes(90));
        assert_eq!(d("2d"), Duration::days(2));
        assert_eq!(d("90s"), Duration::seconds(90));
        assert_eq!(d("0h"), Duration::zero());
        assert_eq!(d("-1h"), Duration::hours(-1));
        for bad in [
            "",
            "1",
            "h",
            "1 h",
            "1x",
            "30m1h",
            "1h1h",
            "1.5h",
            "99999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
