//! The support policy as data: which channels each plan includes, the phone
//! lines, the priority definitions and rules, the response targets and the
//! support hours. [`Policy::standard`] restates `POLICY.md`; everything else in
//! the service asks a [`Policy`] value instead of holding its own constants.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::priority::{self, Impact, PriorityDecision, PriorityRule};
use super::service_request::ServiceKind;

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
#[derive(Debug, Clone)]
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

    /// The published support policy (see `POLICY.md`).
    pub fn standard() -> Self {
        use Channel::*;
        use Plan::*;
        let hours = Duration::hours;
        let line = |region, number: &str, display: &str| PhoneLine {
            region,
            number: number.into(),
            display_number: display.into(),
            support_extension: "2".into(),
        };
        let definition = |priority, name: &str, meaning: &str, workaround: &str, effort: &str| {
            PriorityDefinition {
                priority,
                name: name.into(),
                meaning: meaning.into(),
                workaround: workaround.into(),
                effort: effort.into(),
            }
        };
        Self::new(PolicyParts {
            version: "2026-11-standard".into(),
            channels: vec![
                (Business, vec![WebForm, Chat, Phone]),
                (Education, vec![WebForm, Chat, Phone]),
                (Api, vec![WebForm, Chat, Phone]),
                (Pro, vec![WebForm, Chat]),
                (Free, vec![WebForm, Chat]),
            ],
            targets: vec![
                (vec![Pro, Business, Api, Education], [hours(1), hours(4), hours(24), hours(24)]),
                (vec![Free], [hours(24), hours(24), hours(24), hours(24)]),
            ],
            phone_lines: vec![
                line(Region::Us, "+18887999666", "+1 888 799 9666"),
                line(Region::Us, "+16503976096", "+1 650 397 6096"),
                line(Region::Au, "+611800768027", "+61 1800 768 027"),
                line(Region::Uk, "+448003687314", "+44 800 368 7314"),
                line(Region::Uk, "+442038905445", "+44 20 3890 5445"),
            ],
            priorities: vec![
                definition(
                    Priority::P1,
                    "Urgent",
                    "Service down, severely reduced, or critical impact from a network or software failure (e.g. streaming services or software functions failing).",
                    "none",
                    "Resources around the clock until resolved.",
                ),
                definition(
                    Priority::P2,
                    "High",
                    "Important aspects of the service degraded by poor network performance or other software problems.",
                    "partial or none",
                    "Business hours, plus outside them as reasonably needed.",
                ),
                definition(
                    Priority::P3,
                    "Normal",
                    "General problems with a function or set of functions; operations not affected.",
                    "n/a",
                    "Reasonable resources in business hours.",
                ),
                definition(
                    Priority::P4,
                    "Low",
                    "Request for information or a change: help with features, installation or configuration, little or no effect on operations; includes information, assistance, feature and alpha/beta requests.",
                    "n/a",
                    "Business hours.",
                ),
            ],
            rules: priority::standard_rules(),
            hours: SupportHours {
                always_open: true,
                description: "24 hours a day, 7 days a week, national holidays included.".into(),
                response_clock: "calendar time (24/7); business hours affect who works a ticket, not its response target".into(),
            },
            at_risk_percent: 75,
            professional_services: ServiceKind::ALL.to_vec(),
        })
        .expect("the standard policy is complete")
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
