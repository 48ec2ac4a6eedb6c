//! Priority assignment: the caller states impact in structured fields and an
//! ordered list of rules (data, part of the policy) maps it to P1–P4. The
//! decision names the rule that chose it so agents can see why.

use super::policy::{Priority, named_enum};

named_enum!(
    /// What the customer is asking for.
    RequestKind {
        Problem => "problem",
        Information => "information",
        Assistance => "assistance",
        Feature => "feature",
        Change => "change",
        PrereleaseAccess => "prerelease_access",
    }
);
named_enum!(
    /// How much of the service a problem affects.
    ImpactScope {
        ServiceDown => "service_down",
        Degraded => "degraded",
        FunctionImpaired => "function_impaired",
        Minimal => "minimal",
    }
);
named_enum!(
    /// Whether a workaround exists.
    Workaround { None => "none", Partial => "partial", Full => "full" }
);

/// A stated impact. Fields the kind makes irrelevant are dropped by
/// [`Impact::new`], so two statements that mean the same compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Impact {
    kind: RequestKind,
    scope: Option<ImpactScope>,
    workaround: Option<Workaround>,
}

/// The field an impact statement lacks for its kind and scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingImpactField {
    Scope,
    Workaround,
}

impl Impact {
    /// Checks that the statement is complete: a problem needs a scope, and an
    /// outage or degradation needs to say whether a workaround exists.
    pub fn new(
        kind: RequestKind,
        scope: Option<ImpactScope>,
        workaround: Option<Workaround>,
    ) -> Result<Self, MissingImpactField> {
        if kind != RequestKind::Problem {
            return Ok(Self {
                kind,
                scope: None,
                workaround: None,
            });
        }
        let scope = scope.ok_or(MissingImpactField::Scope)?;
        let workaround = match scope {
            ImpactScope::ServiceDown | ImpactScope::Degraded => {
                Some(workaround.ok_or(MissingImpactField::Workaround)?)
            }
            ImpactScope::FunctionImpaired | ImpactScope::Minimal => None,
        };
        Ok(Self {
            kind,
            scope: Some(scope),
            workaround,
        })
    }

    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    pub fn scope(&self) -> Option<ImpactScope> {
        self.scope
    }

    pub fn workaround(&self) -> Option<Workaround> {
        self.workaround
    }

    /// Every distinct complete impact: a small finite set, which lets a rule
    /// list be checked exhaustively.
    pub fn every_complete() -> Vec<Impact> {
        let mut all = Vec::new();
        for kind in RequestKind::ALL {
            for scope in ImpactScope::ALL.iter().map(|s| Some(*s)).chain([None]) {
                for workaround in Workaround::ALL.iter().map(|w| Some(*w)).chain([None]) {
                    if let Ok(impact) = Impact::new(*kind, scope, workaround)
                        && !all.contains(&impact)
                    {
                        all.push(impact);
                    }
                }
            }
        }
        all
    }
}

/// A rule: when the impact matches every listed condition (an empty list
/// matches anything), the ticket gets `priority`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityRule {
    pub id: String,
    pub description: String,
    pub priority: Priority,
    pub kinds: Vec<RequestKind>,
    pub scopes: Vec<ImpactScope>,
    pub workarounds: Vec<Workaround>,
}

impl PriorityRule {
    pub fn matches(&self, impact: &Impact) -> bool {
        fn fits<T: PartialEq>(allowed: &[T], value: Option<T>) -> bool {
            allowed.is_empty() || value.is_some_and(|v| allowed.contains(&v))
        }
        fits(&self.kinds, Some(impact.kind))
            && fits(&self.scopes, impact.scope)
            && fits(&self.workarounds, impact.workaround)
    }
}

/// The priority chosen and the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityDecision {
    pub priority: Priority,
    pub rule_id: String,
    pub rule_description: String,
}

pub(super) fn classify(rules: &[PriorityRule], impact: &Impact) -> PriorityDecision {
    // An `Impact` is complete by construction and the standard rules cover
    // every complete impact (tested below); a custom rule set that leaves a
    // gap falls through to the lowest priority rather than failing intake.
    rules
        .iter()
        .find(|rule| rule.matches(impact))
        .map(|rule| PriorityDecision {
            priority: rule.priority,
            rule_id: rule.id.clone(),
            rule_description: rule.description.clone(),
        })
        .unwrap_or_else(|| PriorityDecision {
            priority: Priority::P4,
            rule_id: "no-rule-matched".into(),
            rule_description: "No rule matched; lowest priority by default.".into(),
        })
}

/// The rules that implement the published priority definitions, in order:
/// those of the published policy document.
pub fn standard_rules() -> Vec<PriorityRule> {
    super::policy::Policy::standard().rules().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Priority::*;

    fn decide(
        kind: RequestKind,
        scope: Option<ImpactScope>,
        workaround: Option<Workaround>,
    ) -> PriorityDecision {
        let impact = Impact::new(kind, scope, workaround).expect("complete impact");
        classify(&standard_rules(), &impact)
    }

    #[test]
    fn every_problem_scope_and_workaround_gets_the_published_priority() {
        use ImpactScope::*;
        use Workaround as W;
        let table = [
            (ServiceDown, W::None, P1, "service-down-no-workaround"),
            (
                ServiceDown,
                W::Partial,
                P2,
                "service-down-partial-workaround",
            ),
            (ServiceDown, W::Full, P3, "full-workaround"),
            (Degraded, W::None, P2, "degraded-partial-or-no-workaround"),
            (
                Degraded,
                W::Partial,
                P2,
                "degraded-partial-or-no-workaround",
            ),
            (Degraded, W::Full, P3, "full-workaround"),
            (FunctionImpaired, W::None, P3, "function-impaired"),
            (FunctionImpaired, W::Partial, P3, "function-impaired"),
            (FunctionImpaired, W::Full, P3, "function-impaired"),
            (Minimal, W::None, P4, "minimal-effect"),
            (Minimal, W::Partial, P4, "minimal-effect"),
            (Minimal, W::Full, P4, "minimal-effect"),
        ];
        assert_eq!(table.len(), ImpactScope::ALL.len() * Workaround::ALL.len());
        for (scope, workaround, priority, rule) in table {
            let decision = decide(RequestKind::Problem, Some(scope), Some(workaround));
            assert_eq!(
                (decision.priority, decision.rule_id.as_str()),
                (priority, rule),
                "{scope} / {workaround}"
            );
        }
    }

    #[test]
    fn every_request_that_is_not_a_problem_is_p4_whatever_else_is_stated() {
        for kind in RequestKind::ALL
            .iter()
            .filter(|k| **k != RequestKind::Problem)
        {
            for scope in ImpactScope::ALL {
                let decision = decide(*kind, Some(*scope), Some(Workaround::None));
                assert_eq!(decision.priority, P4, "{kind}");
                assert_eq!(decision.rule_id, "request-not-a-problem");
            }
        }
    }

    #[test]
    fn a_problem_without_scope_is_incomplete() {
        assert_eq!(
            Impact::new(RequestKind::Problem, None, Some(Workaround::None)),
            Err(MissingImpactField::Scope)
        );
    }

    #[test]
    fn an_outage_or_degradation_must_say_whether_a_workaround_exists() {
        for scope in [ImpactScope::ServiceDown, ImpactScope::Degraded] {
            assert_eq!(
                Impact::new(RequestKind::Problem, Some(scope), None),
                Err(MissingImpactField::Workaround)
            );
        }
        for scope in [ImpactScope::FunctionImpaired, ImpactScope::Minimal] {
            assert!(Impact::new(RequestKind::Problem, Some(scope), None).is_ok());
        }
    }

    #[test]
    fn irrelevant_fields_are_dropped_so_equal_statements_compare_equal() {
        let a = Impact::new(RequestKind::Feature, Some(ImpactScope::ServiceDown), None).unwrap();
        let b = Impact::new(RequestKind::Feature, None, Some(Workaround::Full)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.scope(), None);
        let c = Impact::new(
            RequestKind::Problem,
            Some(ImpactScope::Minimal),
            Some(Workaround::None),
        )
        .unwrap();
        assert_eq!(c.workaround(), None);
    }

    #[test]
    fn standard_rules_cover_every_complete_impact_without_the_fallback() {
        let mut seen = 0;
        for kind in RequestKind::ALL {
            for scope in ImpactScope::ALL.iter().map(|s| Some(*s)).chain([None]) {
                for workaround in Workaround::ALL.iter().map(|w| Some(*w)).chain([None]) {
                    if let Ok(impact) = Impact::new(*kind, scope, workaround) {
                        let decision = classify(&standard_rules(), &impact);
                        assert_ne!(decision.rule_id, "no-rule-matched", "{impact:?}");
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn rule_ids_are_unique() {
        let rules = standard_rules();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rules.len());
    }

    #[test]
    fn a_gap_in_a_custom_rule_set_falls_back_to_p4_and_says_so() {
        let rules = vec![standard_rules().remove(1)];
        let impact = Impact::new(RequestKind::Information, None, None).unwrap();
        let decision = classify(&rules, &impact);
        assert_eq!(
            (decision.priority, decision.rule_id.as_str()),
            (P4, "no-rule-matched")
        );
    }
}
