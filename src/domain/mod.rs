//! The pure domain core: the support policy as data, priority rules, SLA
//! deadline math and ticket intake decisions. No I/O, no tonic, no SQL; time
//! arrives through [`clock::Clock`].

pub mod access;
pub mod clock;
pub mod compliance;
pub mod intake;
pub mod lifecycle;
pub mod listing;
pub mod policy;
pub mod priority;
pub mod service_request;
pub mod sla;
pub mod survey;
pub mod ticket;
pub mod watch;

pub use clock::Clock;
pub use policy::{Channel, Plan, Policy, Priority, Region};
pub use priority::{Impact, ImpactScope, PriorityDecision, RequestKind, Workaround};
