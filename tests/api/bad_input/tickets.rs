//! Bad input to reading and listing tickets.

use ticketd::proto::pb;

use super::{Call, Case};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a ticket number written with a leading zero",
            call: Call::GetTicket(pb::GetTicketRequest {
                name: "tickets/0001".into(),
            }),
            fields: &["name"],
        },
        Case {
            what: "a ticket name that is neither a uuid nor a number",
            call: Call::GetTicket(pb::GetTicketRequest {
                name: "tickets/abc".into(),
            }),
            fields: &["name"],
        },
        Case {
            what: "a ticket name cut off in the middle of the field",
            call: Call::Raw(
                "/support.v1.TicketService/GetTicket",
                // Field 1 says 9 bytes follow; 3 do.
                vec![0x0a, 0x09, b't', b'i', b'c'],
            ),
            fields: &["name"],
        },
        Case {
            what: "a ticket listing with an unknown channel number",
            call: Call::ListTickets(pb::ListTicketsRequest {
                channel: 9,
                ..Default::default()
            }),
            fields: &["channel"],
        },
        Case {
            what: "a ticket listing with a negative status number",
            call: Call::ListTickets(pb::ListTicketsRequest {
                status: -1,
                ..Default::default()
            }),
            fields: &["status"],
        },
        Case {
            what: "a ticket listing for an account without its prefix",
            call: Call::ListTickets(pb::ListTicketsRequest {
                account: "acme".into(),
                ..Default::default()
            }),
            fields: &["account"],
        },
        Case {
            what: "a ticket listing with page size i32::MIN",
            call: Call::ListTickets(pb::ListTicketsRequest {
                page_size: i32::MIN,
                ..Default::default()
            }),
            fields: &["page_size"],
        },
    ]
}
