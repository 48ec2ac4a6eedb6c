//! Bad input to CreateTicket, from each channel: the web form, chat and the
//! phone IVR.

use ticketd::proto::pb;

use super::{Call, Case, Input, delimited, encoded_with, long, with};
use crate::helpers::*;

const CREATE_TICKET: &str = "/support.v1.TicketService/CreateTicket";

pub(super) fn cases() -> Vec<Case> {
    use pb::{ImpactScope as S, RequestKind as K, Workaround as W};
    vec![
        // CreateTicket from the web form.
        Case {
            what: "a web ticket whose e-mail has no dotted domain",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                form(r).contact_email = "ana@example".into()
            }))
            .into(),
            fields: &["web_form.contact_email"],
        },
        Case {
            what: "a web ticket whose e-mail is 255 characters",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                form(r).contact_email = format!("{}@example.com", long(243))
            }))
            .into(),
            fields: &["web_form.contact_email"],
        },
        Case {
            what: "a web ticket without a description",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.description.clear())).into(),
            fields: &["description"],
        },
        Case {
            what: "a web ticket whose subject is 201 emoji",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.subject = "🎥".repeat(201)))
                .into(),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose subject is only zero-width spaces",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                r.subject = "\u{200B}\u{FEFF}\u{2060}".into()
            }))
            .into(),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose subject holds a right-to-left override",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                r.subject = "invoice \u{202E}fdp.exe".into()
            }))
            .into(),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose subject rings the bell",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.subject = "help\u{7}".into()))
                .into(),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose contact name is blank",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                form(r).contact_name = " \t ".into()
            }))
            .into(),
            fields: &["web_form.contact_name"],
        },
        Case {
            what: "a web ticket with a 20,001-character description",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.description = long(20_001)))
                .into(),
            fields: &["description"],
        },
        // CreateTicket from chat.
        Case {
            what: "a chat ticket whose transcript link is javascript",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                chat(r).transcript_uri = "javascript:alert(1)".into()
            }))
            .into(),
            fields: &["chat.transcript_uri"],
        },
        Case {
            what: "a chat ticket whose session id is 129 characters",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                chat(r).chat_session_id = long(129)
            }))
            .into(),
            fields: &["chat.chat_session_id"],
        },
        Case {
            what: "a chat ticket with neither transcript nor first message",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                chat(r).transcript_uri.clear();
                chat(r).first_message.clear();
            }))
            .into(),
            fields: &["chat.first_message"],
        },
        Case {
            what: "a chat ticket with REQUEST_KIND_UNSPECIFIED",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.impact = impact(K::Unspecified, S::ServiceDown, W::None)
            }))
            .into(),
            fields: &["impact.kind"],
        },
        Case {
            what: "a chat ticket with an unknown impact scope number",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.impact.as_mut().unwrap().scope = 77
            }))
            .into(),
            fields: &["impact.scope"],
        },
        Case {
            what: "a problem without a workaround for a service outage",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.impact = impact(K::Problem, S::ServiceDown, W::Unspecified)
            }))
            .into(),
            fields: &["impact.workaround"],
        },
        Case {
            what: "a chat ticket whose request id holds a space",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.request_id = "retry 1".into()
            }))
            .into(),
            fields: &["request_id"],
        },
        Case {
            what: "a chat ticket whose request id is 65 characters",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| r.request_id = long(65))).into(),
            fields: &["request_id"],
        },
        Case {
            what: "a ticket without an origin",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| r.origin = None)).into(),
            fields: &["origin"],
        },
        Case {
            what: "a ticket for an account named in capitals",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.account = "accounts/ACME".into()
            }))
            .into(),
            fields: &["account"],
        },
        Case {
            what: "a chat ticket whose subject is not UTF-8",
            call: Input::Raw(
                CREATE_TICKET,
                encoded_with(&chat_ticket("acme"), delimited(5, b"caf\xe9")),
            ),
            fields: &["subject"],
        },
        Case {
            what: "a chat ticket whose first message is not UTF-8",
            call: Input::Raw(
                CREATE_TICKET,
                encoded_with(
                    &chat_ticket("acme"),
                    delimited(3, &delimited(3, b"\xff\xfe")),
                ),
            ),
            fields: &["chat.first_message"],
        },
        // CreateTicket from the phone IVR.
        Case {
            what: "a phone ticket whose caller number has no plus",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).caller_number = "14155550123".into()
            }))
            .into(),
            fields: &["phone_call.caller_number"],
        },
        Case {
            what: "a phone ticket whose caller number has spaces",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).caller_number = "+1 415 555 0123".into()
            }))
            .into(),
            fields: &["phone_call.caller_number"],
        },
        Case {
            what: "a phone ticket whose caller number has 16 digits",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).caller_number = "+1234567890123456".into()
            }))
            .into(),
            fields: &["phone_call.caller_number"],
        },
        Case {
            what: "a phone ticket with REGION_UNSPECIFIED",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| call(r).region = 0)).into(),
            fields: &["phone_call.region"],
        },
        Case {
            what: "a phone ticket whose dialed number is no support line",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).dialed_number = "+14155550000".into()
            }))
            .into(),
            fields: &["phone_call.dialed_number"],
        },
        Case {
            what: "a phone ticket that dialed the Australian line from the US",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).dialed_number = "+611800768027".into()
            }))
            .into(),
            fields: &["phone_call.dialed_number"],
        },
        Case {
            what: "a phone ticket without a call id",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| call(r).call_id.clear()))
                .into(),
            fields: &["phone_call.call_id"],
        },
    ]
}
