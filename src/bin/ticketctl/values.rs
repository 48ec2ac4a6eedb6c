//! The protobuf enums as command-line values.

use clap::ValueEnum;
use ticketd::proto::pb;

/// Mirrors a protobuf enum as a CLI value.
macro_rules! cli_enum {
    ($name:ident => $proto:ident { $($variant:ident),+ $(,)? }) => {
        #[derive(Clone, Copy, ValueEnum)]
        pub enum $name { $($variant),+ }
        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                match value { $($name::$variant => pb::$proto::$variant as i32),+ }
            }
        }
    };
}

cli_enum!(Plan => Plan { Free, Pro, Business, Education, Api });
cli_enum!(ChannelArg => Channel { WebForm, Chat, Phone });
cli_enum!(PriorityArg => Priority { P1Urgent, P2High, P3Normal, P4Low });
cli_enum!(RegionArg => Region { Us, Au, Uk });
cli_enum!(MethodArg => NotificationMethod { Email, ChatMessage, PhoneCall, WebPortal });
cli_enum!(WorkStatusArg => TicketStatus { InProgress, WaitingOnCustomer });
cli_enum!(KindArg => RequestKind { Problem, Information, Assistance, Feature, Change, PrereleaseAccess });
cli_enum!(ScopeArg => ImpactScope { ServiceDown, Degraded, FunctionImpaired, Minimal });
cli_enum!(WorkaroundArg => Workaround { None, Partial, Full });
