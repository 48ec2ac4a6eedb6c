//! Who may do what: the roles a credential can hold, the scopes each role
//! grants, and the one decision "may this caller do that". Pure data and
//! logic; how a caller is identified (bearer tokens, hashing, caching) lives
//! in `crate::auth`, and which RPC needs which scope in `crate::api::access`.

use chrono::{DateTime, Utc};

use super::policy::{Channel, named_enum};

named_enum!(
    /// What one calling system is for. Each system gets its own credential
    /// with the narrowest role that lets it do its job.
    Role {
        Intake => "intake",
        Dashboard => "dashboard",
        Agent => "agent",
        Admin => "admin",
    }
);

named_enum!(
    /// One kind of thing a caller may do. RPCs each need exactly one.
    Scope {
        CreateTickets => "tickets.create",
        ReadTickets => "tickets.read",
        WatchSla => "sla.watch",
        ActOnTickets => "tickets.act",
        AnswerSurveys => "surveys.answer",
        RequestServices => "service_requests.create",
        ReadPolicy => "policy.read",
        Administer => "admin",
    }
);

impl Role {
    /// The scopes the role grants. Intake systems are the customer-facing
    /// front doors (chat platform, phone IVR, web form): they take what
    /// customers submit (tickets on their own channels, survey answers,
    /// service requests) and read nothing back beyond the public policy.
    pub fn scopes(self) -> &'static [Scope] {
        use Scope::*;
        match self {
            Role::Intake => &[CreateTickets, AnswerSurveys, RequestServices, ReadPolicy],
            Role::Dashboard => &[ReadTickets, WatchSla, ReadPolicy],
            Role::Agent => &[ReadTickets, WatchSla, ActOnTickets, ReadPolicy],
            Role::Admin => Scope::ALL,
        }
    }

    /// Whether the role's ticket creation is limited to named channels; only
    /// intake credentials are, and they must name at least one.
    pub fn needs_channels(self) -> bool {
        self == Role::Intake
    }
}

/// A stored credential: who holds it, what it grants, and the SHA-256 of
/// its secret (the secret itself is shown once, when issued, and never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub channels: Vec<Channel>,
    pub secret_hash: Vec<u8>,
    pub create_time: DateTime<Utc>,
    pub revoke_time: Option<DateTime<Utc>>,
    pub last_use_time: Option<DateTime<Utc>>,
}

impl Credential {
    pub fn principal(&self) -> Principal {
        Principal {
            credential_id: self.id.clone(),
            name: self.name.clone(),
            role: self.role,
            channels: self.channels.clone(),
        }
    }
}

/// An authenticated caller: the credential it presented and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub credential_id: String,
    /// The calling system the credential was issued to (e.g. `chat-platform`).
    pub name: String,
    pub role: Role,
    /// Channels an intake credential may create tickets on. Empty for other
    /// roles; an administrator may create tickets on every channel.
    pub channels: Vec<Channel>,
}

/// Why a principal may not do something: the scope it would need, and for
/// ticket creation the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub scope: Scope,
    pub channel: Option<Channel>,
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.role.scopes().contains(&scope)
    }

    /// Allows `scope`, or says which scope is missing.
    pub fn require(&self, scope: Scope) -> Result<(), Denied> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(Denied {
                scope,
                channel: None,
            })
        }
    }

    /// Allows creating a ticket that arrived on `channel`.
    pub fn require_channel(&self, channel: Channel) -> Result<(), Denied> {
        let allowed = match self.role {
            Role::Admin => true,
            Role::Intake => self.channels.contains(&channel),
            Role::Dashboard | Role::Agent => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied {
                scope: Scope::CreateTickets,
                channel: Some(channel),
            })
        }
    }
}

/// Checks the channels given for a new credential of `role`: intake needs at
/// least one, the other roles take none.
pub fn check_channels(role: Role, channels: &[Channel]) -> Result<(), &'static str> {
    match (role.needs_channels(), channels.is_empty()) {
        (true, true) => Err("an intake credential needs at least one channel"),
        (false, false) => Err("only intake credentials are limited to channels"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, channels: &[Channel]) -> Principal {
        Principal {
            credential_id: "k1".into(),
            name: "test".into(),
            role,
            channels: channels.to_vec(),
        }
    }

    /// Every role × scope cell, written out so a change to a role is a
    /// deliberate edit here too.
    #[test]
    fn each_role_grants_exactly_its_scopes() {
        use Scope::*;
        let table: [(Role, [bool; 8]); 4] = [
            //                 create read  watch act   survey svc   policy admin
            (
                Role::Intake,
                [true, false, false, false, true, true, true, false],
            ),
            (
                Role::Dashboard,
                [false, true, true, false, false, false, true, false],
            ),
            (
                Role::Agent,
                [false, true, true, true, false, false, true, false],
            ),
            (
                Role::Admin,
                [true, true, true, true, true, true, true, true],
            ),
        ];
        let scopes = [
            CreateTickets,
            ReadTickets,
            WatchSla,
            ActOnTickets,
            AnswerSurveys,
            RequestServices,
            ReadPolicy,
            Administer,
        ];
        assert_eq!(scopes.len(), Scope::ALL.len());
        for (role, row) in table {
            for (scope, expected) in scopes.iter().zip(row) {
                assert_eq!(
                    principal(role, &[Channel::Chat]).has(*scope),
                    expected,
                    "{role} / {scope}"
                );
            }
        }
    }

    #[test]
    fn an_intake_credential_creates_tickets_only_on_its_channels() {
        let chat = principal(Role::Intake, &[Channel::Chat]);
        assert_eq!(chat.require_channel(Channel::Chat), Ok(()));
        for other in [Channel::Phone, Channel::WebForm] {
            assert_eq!(
                chat.require_channel(other),
                Err(Denied {
                    scope: Scope::CreateTickets,
                    channel: Some(other)
                })
            );
        }
        let both = principal(Role::Intake, &[Channel::Phone, Channel::WebForm]);
        assert!(both.require_channel(Channel::Phone).is_ok());
        assert!(both.require_channel(Channel::WebForm).is_ok());
        assert!(both.require_channel(Channel::Chat).is_err());
    }

    #[test]
    fn only_administrators_create_tickets_without_naming_channels() {
        for channel in Channel::ALL {
            assert!(
                principal(Role::Admin, &[])
                    .require_channel(*channel)
                    .is_ok()
            );
            assert!(
                principal(Role::Agent, &[])
                    .require_channel(*channel)
                    .is_err()
            );
            assert!(
                principal(Role::Dashboard, &[])
                    .require_channel(*channel)
                    .is_err()
            );
        }
    }

    #[test]
    fn a_missing_scope_is_named() {
        let dashboard = principal(Role::Dashboard, &[]);
        assert_eq!(
            dashboard.require(Scope::ActOnTickets),
            Err(Denied {
                scope: Scope::ActOnTickets,
                channel: None
            })
        );
        assert_eq!(dashboard.require(Scope::WatchSla), Ok(()));
    }

    #[test]
    fn intake_credentials_need_channels_and_others_take_none() {
        assert!(check_channels(Role::Intake, &[]).is_err());
        assert!(check_channels(Role::Intake, &[Channel::Phone]).is_ok());
        for role in [Role::Dashboard, Role::Agent, Role::Admin] {
            assert!(check_channels(role, &[]).is_ok());
            assert!(check_channels(role, &[Channel::Chat]).is_err());
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(*scope));
        }
    }
}
