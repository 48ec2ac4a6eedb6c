//! Bad input to reading and listing tickets.

use ticketd::proto::pb;

use super::{Call, Case, Input, with};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a ticket number written with a leading zero",
            call: Call::GetTicket(pb::GetTicketRequest {
                name: "tickets/0001".into(),
            })
            .into(),
            fields: &["name"],
        },
        Case {
            what: "a ticket name that is neither a uuid nor a number",
            call: Call::GetTicket(pb::GetTicketRequest {
                name: "tickets/abc".into(),
            })
            .into(),
            fields: &["name"],
        },
        Case {
            what: "a ticket name cut off in the middle of the field",
            call: Input::Raw(
                "/support.v1.TicketService/GetTicket",
                // Field 1 says 9 bytes follow; 3 do.
                vec![0x0a, 0x09, b't', b'i', b'c'],
            ),
            fields: &["name"],
        },
        Case {
            what: "a ticket listing with an unknown channel number",
            call: listing(|r| r.channel = 9).into(),
            fields: &["channel"],
        },
        Case {
            what: "a ticket listing with a negative status number",
            call: listing(|r| r.status = -1).into(),
            fields: &["status"],
        },
        Case {
            what: "a ticket listing for an account without its prefix",
            call: listing(|r| r.account = "acme".into()).into(),
            fields: &["account"],
        },
        Case {
            what: "a ticket listing with page size i32::MIN",
            call: listing(|r| r.page_size = i32::MIN).into(),
            fields: &["page_size"],
        },
    ]
}

/// A ListTickets request with every field at its default but what `change` sets.
fn listing(change: impl FnOnce(&mut pb::ListTicketsRequest)) -> Call {
    Call::ListTickets(with(Default::default(), change))
}
