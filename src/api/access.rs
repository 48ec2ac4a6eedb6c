//! Which scope each RPC needs: the one table the guard consults before any
//! handler runs. Creating a ticket also needs the ticket's channel, which
//! only the handler can read from the message; it asks
//! `Principal::require_channel` there.

use crate::domain::access::Scope;

pub const TICKET_SERVICE: &str = "support.v1.TicketService";
pub const POLICY_SERVICE: &str = "support.v1.PolicyService";
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Every health method's path starts so.
pub const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// Whether a call to `path` sends exactly one request message: every method
/// of ours and of the health service (streaming ones stream responses only).
/// Reflection streams requests; unknown paths are refused by the router.
pub fn takes_one_message(path: &str) -> bool {
    let service = path
        .trim_start_matches('/')
        .split_once('/')
        .map_or("", |(service, _)| service);
    [TICKET_SERVICE, POLICY_SERVICE, HEALTH_SERVICE].contains(&service)
}

/// What a call must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Nothing: health checks come from load balancers without credentials.
    Open,
    /// Any valid credential (server reflection, unless configured open).
    Authenticated,
    /// A credential granting this scope.
    Scope(Scope),
}

/// The requirement for a call to `path` (`/package.Service/Method`).
/// Unknown TicketService and PolicyService methods need the administrator
/// scope, so a method added to the contract without a line here is closed,
/// not open.
pub fn requirement(path: &str, reflection_open: bool) -> Requirement {
    let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
        return Requirement::Authenticated;
    };
    match service {
        HEALTH_SERVICE => Requirement::Open,
        s if REFLECTION_SERVICES.contains(&s) => {
            if reflection_open {
                Requirement::Open
            } else {
                Requirement::Authenticated
            }
        }
        POLICY_SERVICE => Requirement::Scope(policy_method_scope(method)),
        TICKET_SERVICE => Requirement::Scope(ticket_method_scope(method)),
        _ => Requirement::Authenticated,
    }
}

fn policy_method_scope(method: &str) -> Scope {
    use Scope::*;
    match method {
        "GetPolicy" | "CheckChannel" | "ClassifyPriority" | "ComputeDeadline" => ReadPolicy,
        "ValidatePolicyDocument" => Administer,
        _ => Administer,
    }
}

fn ticket_method_scope(method: &str) -> Scope {
    use Scope::*;
    match method {
        "CreateTicket" => CreateTickets,
        "GetTicket"
        | "ListTickets"
        | "ListTicketEvents"
        | "ListTicketsByDeadline"
        | "GetComplianceReport"
        | "ListSurveys"
        | "GetAccount"
        | "ListAccounts"
        | "GetServiceRequest"
        | "ListServiceRequests" => ReadTickets,
        "AcknowledgeTicket"
        | "UpdateTicketStatus"
        | "ResolveTicket"
        | "ReopenTicket"
        | "CloseTicket"
        | "ReprioritizeTicket"
        | "UpdateServiceRequestStatus" => ActOnTickets,
        "AnswerSurvey" => AnswerSurveys,
        "CreateServiceRequest" => RequestServices,
        "WatchSlaStatus" => WatchSla,
        "CreateAccount" | "UpdateAccount" => Administer,
        _ => Administer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// Every method in the compiled contract, from the descriptor set the
    /// server also serves over reflection.
    fn contract_methods() -> Vec<(String, String)> {
        let set = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set decodes");
        set.file
            .iter()
            .filter(|f| f.package() == "support.v1")
            .flat_map(|f| {
                f.service.iter().flat_map(|s| {
                    s.method
                        .iter()
                        .map(|m| (format!("support.v1.{}", s.name()), m.name().to_owned()))
                })
            })
            .collect()
    }

    #[test]
    fn every_method_is_listed_rather_than_falling_to_the_default() {
        let methods = contract_methods();
        assert!(methods.len() > 25, "{methods:?}");
        for (service, method) in &methods {
            // The default arms answer Administer; only the account writes
            // and the policy document check mean it.
            let scope = match service.as_str() {
                TICKET_SERVICE => ticket_method_scope(method),
                _ => policy_method_scope(method),
            };
            if scope == Scope::Administer {
                assert!(
                    ["CreateAccount", "UpdateAccount", "ValidatePolicyDocument"]
                        .contains(&method.as_str()),
                    "{service}/{method} has no line in the scope table"
                );
            }
        }
        for (service, _) in &methods {
            assert!(
                [TICKET_SERVICE, POLICY_SERVICE].contains(&service.as_str()),
                "{service}"
            );
        }
    }

    #[test]
    fn health_is_open_and_reflection_is_open_only_when_configured() {
        assert_eq!(
            requirement("/grpc.health.v1.Health/Check", false),
            Requirement::Open
        );
        assert_eq!(
            requirement("/grpc.health.v1.Health/Watch", false),
            Requirement::Open
        );
        let reflection = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
        assert_eq!(requirement(reflection, false), Requirement::Authenticated);
        assert_eq!(requirement(reflection, true), Requirement::Open);
    }

    #[test]
    fn every_method_but_reflection_takes_one_request_message() {
        assert!(takes_one_message(
            "/support.v1.TicketService/WatchSlaStatus"
        ));
        assert!(takes_one_message("/support.v1.PolicyService/GetPolicy"));
        assert!(takes_one_message("/grpc.health.v1.Health/Watch"));
        assert!(HEALTH_PREFIX.starts_with(&format!("/{HEALTH_SERVICE}/")));
        assert!(!takes_one_message(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!takes_one_message("/other.Service/Call"));
    }

    #[test]
    fn unknown_paths_need_credentials() {
        assert_eq!(
            requirement("/support.v1.TicketService/DropEverything", true),
            Requirement::Scope(Scope::Administer)
        );
        assert_eq!(
            requirement("/support.v1.PolicyService/DropEverything", true),
            Requirement::Scope(Scope::Administer)
        );
        assert_eq!(
            requirement("/other.Service/Call", true),
            Requirement::Authenticated
        );
        assert_eq!(requirement("garbage", true), Requirement::Authenticated);
    }
}
