//! The support policy as data: which channels each plan includes, the phone
//! lines, the priority definitions and rules, the response targets and the
//! support hours. The policy is a document (`policy/published.toml` is the
//! published one, restating `POLICY.md`): [`document`] reads it, [`check`]
//! validates it, and [`Policy::standard`] is that document. Everything else
//! in the service asks a [`Policy`] value instead of holding its own
//! constants.

pub mod check;
pub mod document;
#[cfg(test)]
mod hand_written;
pub mod version;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};

pub use document::{Problem, Problems};
pub use version::PolicyVersion;

use super::priority::{self, Impact, PriorityDecision, PriorityRule};
use super::service_request::ServiceKind;

/// The published policy document, built into the binary.
const PUBLISHED: &str = include_str!("../../../policy/published.toml");

/// E.164: `+`, then 8–15 digits, the first not 0.
pub fn is_e164(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Defines a closed set of names with a stable text form (used in storage,
/// logs and the CLI) and a list of every value in declaration order.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// A customer plan.
    Plan { Free => "free", Pro => "pro", Business => "business", Education => "education", Api => "api" }
);
named_enum!(
    /// A way a customer reaches support.
    Channel { WebForm => "web_form", Chat => "chat", Phone => "phone" }
);
named_enum!(
    /// A ticket priority, P1 (most urgent) to P4.
    Priority { P1 => "p1", P2 => "p2", P3 => "p3", P4 => "p4" }
);
named_enum!(
    /// A region with phone support lines.
    Region { Us => "us", Au => "au", Uk => "uk" }
);

/// One phone support line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneLine {
    pub region: Region,
    /// E.164, e.g. `+18887999666`.
    pub number: String,
    /// As printed on the support page.
    pub display_number: String,
    /// The IVR menu extension for support.
    pub support_extension: String,
}

/// A priority level's definition, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityDefinition {
    pub priority: Priority,
    pub name: String,
    pub meaning: String,
    pub workaround: String,
    pub effort: String,
}

/// When support works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportHours {
    pub always_open: bool,
    pub description: String,
    pub response_clock: String,
}

/// A channel the plan does not include, with what it does include, so the
/// caller can offer the customer another way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelNotInPlan {
    pub plan: Plan,
    pub channel: Channel,
    pub allowed: Vec<Channel>,
}

/// The whole policy. Built through [`Policy::new`], which refuses an
/// incomplete table, so lookups never miss.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    version: String,
    channels: BTreeMap<Plan, Vec<Channel>>,
    targets: BTreeMap<(Plan, Priority), Duration>,
    phone_lines: Vec<PhoneLine>,
    priorities: Vec<PriorityDefinition>,
    rules: Vec<PriorityRule>,
    hours: SupportHours,
    at_risk_percent: u8,
    professional_services: Vec<ServiceKind>,
}

/// The parts a policy is made of; rows as the published tables have them.
pub struct PolicyParts {
    pub version: String,
    pub channels: Vec<(Plan, Vec<Channel>)>,
    /// Each row: the plans it applies to, and the target for P1, P2, P3, P4.
    pub targets: Vec<(Vec<Plan>, [Duration; 4])>,
    pub phone_lines: Vec<PhoneLine>,
    pub priorities: Vec<PriorityDefinition>,
    pub rules: Vec<PriorityRule>,
    pub hours: SupportHours,
    /// Share of the response target, in percent, after which an unanswered
    /// ticket is AT_RISK.
    pub at_risk_percent: u8,
    /// What professional services offers. They have no response target: the
    /// published policy gives none.
    pub professional_services: Vec<ServiceKind>,
}

impl Policy {
    /// Assembles a policy, checking that every plan has channels and a target
    /// for every priority, exactly once, and that every priority is defined.
    pub fn new(parts: PolicyParts) -> Result<Self, String> {
        let mut channels = BTreeMap::new();
        for (plan, list) in parts.channels {
            if channels.insert(plan, list).is_some() {
                return Err(format!("channels for plan {plan} given twice"));
            }
        }
        let mut targets = BTreeMap::new();
        for (plans, row) in parts.targets {
            for plan in plans {
                for (priority, target) in Priority::ALL.iter().zip(row) {
                    if target <= Duration::zero() {
                        return Err(format!("target for {plan}/{priority} is not positive"));
                    }
                    if targets.insert((plan, *priority), target).is_some() {
                        return Err(format!("target for {plan}/{priority} given twice"));
                    }
                }
            }
        }
        for plan in Plan::ALL {
            if !channels.contains_key(plan) {
                return Err(format!("plan {plan} has no channel list"));
            }
            if Priority::ALL
                .iter()
                .any(|p| !targets.contains_key(&(*plan, *p)))
            {
                return Err(format!("plan {plan} lacks a response target"));
            }
        }
        for priority in Priority::ALL {
            if !parts.priorities.iter().any(|d| d.priority == *priority) {
                return Err(format!("priority {priority} is not defined"));
            }
        }
        if parts.rules.is_empty() {
            return Err("no priority rules".into());
        }
        if !(1..=99).contains(&parts.at_risk_percent) {
            return Err("at_risk_percent must be between 1 and 99".into());
        }
        Ok(Self {
            version: parts.version,
            channels,
            targets,
            phone_lines: parts.phone_lines,
            priorities: parts.priorities,
            rules: parts.rules,
            hours: parts.hours,
            at_risk_percent: parts.at_risk_percent,
            professional_services: parts.professional_services,
        })
    }

    pub fn professional_services(&self) -> &[ServiceKind] {
        &self.professional_services
    }

    pub fn at_risk_percent(&self) -> u8 {
        self.at_risk_percent
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// The channels `plan` includes, in a stable order.
    pub fn channels_for(&self, plan: Plan) -> &[Channel] {
        &self.channels[&plan]
    }

    pub fn check_channel(&self, plan: Plan, channel: Channel) -> Result<(), ChannelNotInPlan> {
        let allowed = self.channels_for(plan);
        if allowed.contains(&channel) {
            Ok(())
        } else {
            Err(ChannelNotInPlan {
                plan,
                channel,
                allowed: allowed.to_vec(),
            })
        }
    }

    /// Time allowed from receipt of a proper ticket to the first response.
    pub fn response_target(&self, plan: Plan, priority: Priority) -> Duration {
        self.targets[&(plan, priority)]
    }

    /// The first-response deadline. Support is open 24/7, holidays included,
    /// so the clock runs on calendar time: no business-hours calendar applies.
    pub fn response_due_at(
        &self,
        plan: Plan,
        priority: Priority,
        received_at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        received_at + self.response_target(plan, priority)
    }

    /// Chooses a priority for a stated impact: the first matching rule wins.
    pub fn classify(&self, impact: &Impact) -> PriorityDecision {
        priority::classify(&self.rules, impact)
    }

    pub fn phone_lines(&self) -> &[PhoneLine] {
        &self.phone_lines
    }

    /// True when `number` (E.164) is a support line of `region`.
    pub fn is_support_line(&self, region: Region, number: &str) -> bool {
        self.phone_lines
            .iter()
            .any(|line| line.region == region && line.number == number)
    }

    pub fn priorities(&self) -> &[PriorityDefinition] {
        &self.priorities
    }

    pub fn rules(&self) -> &[PriorityRule] {
        &self.rules
    }

    pub fn support_hours(&self) -> &SupportHours {
        &self.hours
    }

    /// The text of the published policy document built into the binary:
    /// version 1 of every database.
    pub fn published_document() -> &'static str {
        PUBLISHED
    }

    /// The published support policy (see `POLICY.md`): the document
    /// `policy/published.toml`, built into the binary and read once.
    pub fn standard() -> Self {
        static STANDARD: LazyLock<Policy> = LazyLock::new(|| {
            Policy::from_document(PUBLISHED)
                .unwrap_or_else(|problems| panic!("policy/published.toml: {problems}"))
        });
        STANDARD.clone()
    }

    /// Reads, checks and builds a policy from a policy document (TOML; see
    /// `policy/published.toml` for the shape). Every problem found is
    /// returned, each named by path and line.
    pub fn from_document(text: &str) -> Result<Self, Problems> {
        let doc = document::parse(text)?;
        let parts = check::check(text, doc)?;
        Self::new(parts).map_err(|message| {
            Problems::new(vec![Problem {
                path: String::new(),
                line: 1,
                message,
            }])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::*;
    use Plan::*;
    use Priority::*;

    /// POLICY.md "Channels, by plan", restated cell by cell.
    const CHANNEL_TABLE: &[(Plan, Channel, bool)] = &[
        (Business, WebForm, true),
        (Business, Chat, true),
        (Business, Phone, true),
        (Education, WebForm, true),
        (Education, Chat, true),
        (Education, Phone, true),
        (Api, WebForm, true),
        (Api, Chat, true),
        (Api, Phone, true),
        (Pro, WebForm, true),
        (Pro, Chat, true),
        (Pro, Phone, false),
        (Free, WebForm, true),
        (Free, Chat, true),
        (Free, Phone, false),
    ];

    /// POLICY.md "Target response time", restated cell by cell (hours).
    const TARGET_TABLE: &[(Plan, Priority, i64)] = &[
        (Pro, P1, 1),
        (Pro, P2, 4),
        (Pro, P3, 24),
        (Pro, P4, 24),
        (Business, P1, 1),
        (Business, P2, 4),
        (Business, P3, 24),
        (Business, P4, 24),
        (Api, P1, 1),
        (Api, P2, 4),
        (Api, P3, 24),
        (Api, P4, 24),
        (Education, P1, 1),
        (Education, P2, 4),
        (Education, P3, 24),
        (Education, P4, 24),
        (Free, P1, 24),
        (Free, P2, 24),
        (Free, P3, 24),
        (Free, P4, 24),
    ];

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn tables_cover_every_plan_channel_and_priority_cell() {
        assert_eq!(CHANNEL_TABLE.len(), Plan::ALL.len() * Channel::ALL.len());
        assert_eq!(TARGET_TABLE.len(), Plan::ALL.len() * Priority::ALL.len());
    }

    #[test]
    fn every_channel_cell_matches_the_published_table() {
        let policy = Policy::standard();
        for &(plan, channel, allowed) in CHANNEL_TABLE {
            assert_eq!(
                policy.check_channel(plan, channel).is_ok(),
                allowed,
                "{plan} × {channel}"
            );
        }
    }

    #[test]
    fn a_refused_channel_names_the_channels_the_plan_allows() {
        let refusal = Policy::standard().check_channel(Free, Phone).unwrap_err();
        assert_eq!(refusal.allowed, vec![WebForm, Chat]);
        assert_eq!((refusal.plan, refusal.channel), (Free, Phone));
    }

    #[test]
    fn every_target_cell_matches_the_published_table() {
        let policy = Policy::standard();
        for &(plan, priority, hours) in TARGET_TABLE {
            assert_eq!(
                policy.response_target(plan, priority),
                Duration::hours(hours),
                "{plan} × {priority}"
            );
        }
    }

    #[test]
    fn deadline_is_receipt_plus_target_on_the_calendar_even_over_weekends_and_holidays() {
        let policy = Policy::standard();
        // Friday 23:30 UTC; a 24 h target ends Saturday 23:30, a 1 h target Saturday 00:30.
        let friday = at("2026-12-25T23:30:00Z");
        assert_eq!(
            policy.response_due_at(Free, P1, friday),
            at("2026-12-26T23:30:00Z")
        );
        assert_eq!(
            policy.response_due_at(Business, P1, friday),
            at("2026-12-26T00:30:00Z")
        );
        // Across a leap day.
        assert_eq!(
            policy.response_due_at(Pro, P2, at("2028-02-28T22:00:00Z")),
            at("2028-02-29T02:00:00Z")
        );
    }

    #[test]
    fn deadline_keeps_sub_second_precision_of_receipt() {
        let policy = Policy::standard();
        let received = at("2026-03-01T10:00:00.123456Z");
        assert_eq!(
            policy.response_due_at(Api, P2, received) - received,
            Duration::hours(4)
        );
    }

    #[test]
    fn phone_lines_match_the_published_numbers_with_extension_2() {
        let policy = Policy::standard();
        let lines: Vec<(Region, &str)> = policy
            .phone_lines()
            .iter()
            .map(|l| (l.region, l.number.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (Region::Us, "+18887999666"),
                (Region::Us, "+16503976096"),
                (Region::Au, "+611800768027"),
                (Region::Uk, "+448003687314"),
                (Region::Uk, "+442038905445"),
            ]
        );
        assert!(
            policy
                .phone_lines()
                .iter()
                .all(|l| l.support_extension == "2")
        );
        for line in policy.phone_lines() {
            let digits: String = line.display_number.chars().filter(|c| *c != ' ').collect();
            assert_eq!(digits, line.number, "display and E.164 forms agree");
        }
    }

    #[test]
    fn a_line_only_counts_for_its_own_region() {
        let policy = Policy::standard();
        assert!(policy.is_support_line(Region::Uk, "+442038905445"));
        assert!(!policy.is_support_line(Region::Us, "+442038905445"));
        assert!(!policy.is_support_line(Region::Us, "+15555550100"));
    }

    #[test]
    fn priority_definitions_name_the_four_levels_and_their_workaround_rules() {
        let policy = Policy::standard();
        let rows: Vec<(Priority, &str, &str)> = policy
            .priorities()
            .iter()
            .map(|d| (d.priority, d.name.as_str(), d.workaround.as_str()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (P1, "Urgent", "none"),
                (P2, "High", "partial or none"),
                (P3, "Normal", "n/a"),
                (P4, "Low", "n/a"),
            ]
        );
    }

    #[test]
    fn every_professional_service_on_the_page_is_offered() {
        use crate::domain::service_request::ServiceKind::*;
        assert_eq!(
            Policy::standard().professional_services(),
            [
                Training,
                Consulting,
                Branding,
                Implementation,
                CustomSolution,
                Development
            ]
        );
    }

    #[test]
    fn support_is_open_around_the_clock() {
        assert!(Policy::standard().support_hours().always_open);
    }

    #[test]
    fn an_incomplete_policy_is_refused() {
        let mut parts = standard_parts();
        parts.targets.pop();
        assert!(Policy::new(parts).unwrap_err().contains("api"));

        let mut parts = standard_parts();
        parts.channels.retain(|(plan, _)| *plan != Pro);
        assert!(Policy::new(parts).unwrap_err().contains("pro"));

        let mut parts = standard_parts();
        parts.targets.push((vec![Free], [Duration::hours(1); 4]));
        assert!(Policy::new(parts).unwrap_err().contains("twice"));
    }

    #[test]
    fn text_forms_round_trip() {
        for plan in Plan::ALL {
            assert_eq!(Plan::parse(plan.as_str()), Some(*plan));
        }
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(*channel));
        }
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()), Some(*priority));
        }
        for region in Region::ALL {
            assert_eq!(Region::parse(region.as_str()), Some(*region));
        }
        assert_eq!(Plan::parse("enterprise"), None);
    }

    /// The document-loaded policy equals the one the hand-written code
    /// built, table by table and cell by cell.
    #[test]
    fn the_published_document_restates_the_hand_written_policy() {
        let document = Policy::standard();
        let reference = hand_written::standard();
        assert_eq!(document.version(), reference.version());
        assert_eq!(document.version(), "2026-11-standard");
        for plan in Plan::ALL {
            assert_eq!(
                document.channels_for(*plan),
                reference.channels_for(*plan),
                "channels of {plan}"
            );
            for priority in Priority::ALL {
                assert_eq!(
                    document.response_target(*plan, *priority),
                    reference.response_target(*plan, *priority),
                    "target {plan} × {priority}"
                );
            }
        }
        assert_eq!(document.phone_lines(), reference.phone_lines());
        assert_eq!(document.priorities(), reference.priorities());
        assert_eq!(document.rules().len(), reference.rules().len());
        for (loaded, written) in document.rules().iter().zip(reference.rules()) {
            assert_eq!(loaded, written, "rule {}", written.id);
        }
        assert_eq!(document.support_hours(), reference.support_hours());
        assert_eq!(document.at_risk_percent(), reference.at_risk_percent());
        assert_eq!(
            document.professional_services(),
            reference.professional_services()
        );
        // And nothing else differs.
        assert_eq!(document, reference);
    }

    #[test]
    fn the_standard_rules_are_the_documents() {
        assert_eq!(priority::standard_rules(), hand_written::standard_rules());
    }

    fn standard_parts() -> PolicyParts {
        let policy = Policy::standard();
        PolicyParts {
            version: policy.version.clone(),
            channels: policy.channels.clone().into_iter().collect(),
            targets: Plan::ALL
                .iter()
                .map(|plan| {
                    let row = [P1, P2, P3, P4].map(|p| policy.response_target(*plan, p));
                    (vec![*plan], row)
                })
                .collect(),
            phone_lines: policy.phone_lines.clone(),
            priorities: policy.priorities.clone(),
            rules: policy.rules.clone(),
            hours: policy.hours.clone(),
            at_risk_percent: policy.at_risk_percent,
            professional_services: policy.professional_services.clone(),
        }
    }
}
