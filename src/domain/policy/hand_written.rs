//! The published policy as it was written in Rust before it became a
//! document: the reference the document-loaded policy is compared with,
//! value by value.

use chrono::Duration;

use super::*;
use crate::domain::priority::{ImpactScope, PriorityRule, RequestKind, Workaround};
use crate::domain::service_request::ServiceKind;

/// The published support policy (see `POLICY.md`), as hand-written code.
pub fn standard() -> Policy {
    use Channel::*;
    use Plan::*;
    let hours = Duration::hours;
    let line = |region, number: &str, display: &str| PhoneLine {
        region,
        number: number.into(),
        display_number: display.into(),
        support_extension: "2".into(),
    };
    let definition =
        |priority, name: &str, meaning: &str, workaround: &str, effort: &str| PriorityDefinition {
            priority,
            name: name.into(),
            meaning: meaning.into(),
            workaround: workaround.into(),
            effort: effort.into(),
        };
    Policy::new(PolicyParts {
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
        rules: standard_rules(),
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

/// The rules that implement the published priority definitions, in order.
pub fn standard_rules() -> Vec<PriorityRule> {
    use ImpactScope::*;
    use RequestKind::*;
    let rule = |id: &str,
                priority,
                description: &str,
                kinds: &[RequestKind],
                scopes: &[ImpactScope],
                workarounds: &[Workaround]| PriorityRule {
        id: id.into(),
        description: description.into(),
        priority,
        kinds: kinds.to_vec(),
        scopes: scopes.to_vec(),
        workarounds: workarounds.to_vec(),
    };
    vec![
        rule(
            "request-not-a-problem",
            Priority::P4,
            "Requests for information, assistance, features, changes or alpha/beta access are P4 (Low).",
            &[Information, Assistance, Feature, Change, PrereleaseAccess],
            &[],
            &[],
        ),
        rule(
            "service-down-no-workaround",
            Priority::P1,
            "Service down, severely reduced or critically impacted, with no workaround: P1 (Urgent).",
            &[Problem],
            &[ServiceDown],
            &[Workaround::None],
        ),
        rule(
            "service-down-partial-workaround",
            Priority::P2,
            "Service down but a partial workaround exists: important aspects remain degraded, P2 (High).",
            &[Problem],
            &[ServiceDown],
            &[Workaround::Partial],
        ),
        rule(
            "degraded-partial-or-no-workaround",
            Priority::P2,
            "Important aspects degraded with a partial or no workaround: P2 (High).",
            &[Problem],
            &[Degraded],
            &[Workaround::None, Workaround::Partial],
        ),
        rule(
            "full-workaround",
            Priority::P3,
            "An outage or degradation that a workaround fully bypasses leaves operations unaffected: P3 (Normal).",
            &[Problem],
            &[ServiceDown, Degraded],
            &[Workaround::Full],
        ),
        rule(
            "function-impaired",
            Priority::P3,
            "A general problem with a function or set of functions, operations not affected: P3 (Normal).",
            &[Problem],
            &[FunctionImpaired],
            &[],
        ),
        rule(
            "minimal-effect",
            Priority::P4,
            "A problem with little or no effect on operations: P4 (Low).",
            &[Problem],
            &[Minimal],
            &[],
        ),
    ]
}
