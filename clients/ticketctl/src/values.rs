//! The protobuf enums as command-line values. Every enum's names come from
//! the proto itself by one rule ([`cli_name`]), so the CLI keeps no list of
//! its own.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use ticketd_client::proto::pb;

/// A generated protobuf enum: its values are `1..` (0 is `…_UNSPECIFIED`)
/// and each has a proto name such as `PLAN_BUSINESS`.
pub trait ProtoEnum: Copy + Send + Sync + 'static + TryFrom<i32> + Into<i32> {
    /// The proto name, e.g. `PRIORITY_P1_URGENT`.
    fn proto_name(self) -> &'static str;

    /// The proto name without the enum's prefix (what `…_UNSPECIFIED`
    /// starts with): `P1_URGENT`.
    fn short_name(self) -> &'static str {
        let prefix = Self::try_from(0).map_or("", |unset| {
            let unset = unset.proto_name();
            &unset[..unset.len() - "UNSPECIFIED".len()]
        });
        let name = self.proto_name();
        name.strip_prefix(prefix).unwrap_or(name)
    }
}

macro_rules! proto_enums {
    ($($name:ident),+ $(,)?) => {
        $(impl ProtoEnum for pb::$name {
            fn proto_name(self) -> &'static str {
                self.as_str_name()
            }
        })+
    };
}

proto_enums!(
    Plan,
    Channel,
    Priority,
    Region,
    NotificationMethod,
    TicketStatus,
    RequestKind,
    ImpactScope,
    Workaround,
    SlaState,
    TicketEventKind,
);

/// The one rule from proto name to command-line value: the short name in
/// lower case with hyphens, `PRIORITY_P1_URGENT` → `p1-urgent`.
pub fn cli_name<E: ProtoEnum>(value: E) -> String {
    value.short_name().to_ascii_lowercase().replace('_', "-")
}

/// The short name of a raw enum field, `?` for a number the proto does not name.
pub fn short_name<E: ProtoEnum>(raw: i32) -> &'static str {
    E::try_from(raw).map_or("?", E::short_name)
}

/// A value parser offering every value of `E` but `…_UNSPECIFIED`, in proto order.
pub fn every<E: ProtoEnum>() -> impl TypedValueParser<Value = E> {
    one_of((1..).map_while(|n| E::try_from(n).ok()).collect())
}

/// A value parser offering `values`, in that order, by their [`cli_name`]s.
pub fn one_of<E: ProtoEnum>(values: Vec<E>) -> impl TypedValueParser<Value = E> {
    // clap (without its `string` feature) takes `&'static str` names; the
    // command is built once a run, so the few names live as long as it does.
    let names: Vec<&'static str> = values
        .iter()
        .map(|value| &*Box::leak(cli_name(*value).into_boxed_str()))
        .collect();
    PossibleValuesParser::new(names.clone()).map(move |chosen| {
        // It passes on only a name it offers, as typed: on an argument that
        // ignores case, in any case.
        let at = names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(&chosen));
        values[at.expect("PossibleValuesParser accepts only the names it offers")]
    })
}
