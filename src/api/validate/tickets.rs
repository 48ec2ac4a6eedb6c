//! CreateTicket: the intake of a ticket from any origin, and the impact
//! a priority is classified from.

use super::limits::{
    MAX_DESCRIPTION_CHARS, MAX_EMAIL_CHARS, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_PHONE_NUMBER_CHARS,
    MAX_REQUEST_ID_CHARS, MAX_SUBJECT_CHARS, MAX_URI_CHARS,
};
use super::names::account_from_name;
use super::{Violations, is_email, is_request_id, quoted};
use crate::api::convert::{
    kind_from_proto, region_from_proto, scope_from_proto, workaround_from_proto,
};
use crate::domain::policy::{Policy, is_e164};
use crate::domain::priority::{Impact, MissingImpactField};
use crate::domain::ticket::{Origin, TicketRequest};
use crate::error::{Error, Result};
use crate::proto::pb;

fn is_http_uri(value: &str) -> bool {
    (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() > "https://".len()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn create_ticket(request: pb::CreateTicketRequest, policy: &Policy) -> Result<TicketRequest> {
    use pb::create_ticket_request::Origin as PbOrigin;
    let mut v = Violations::default();
    let account_id = account_from_name(&mut v, "account", &request.account);
    let subject = v.required("subject", request.subject, MAX_SUBJECT_CHARS);
    let is_web_form = matches!(request.origin, Some(PbOrigin::WebForm(_)));
    let description = if is_web_form {
        v.required("description", request.description, MAX_DESCRIPTION_CHARS)
    } else {
        v.optional("description", request.description, MAX_DESCRIPTION_CHARS)
            .unwrap_or_default()
    };
    let origin = match request.origin {
        None => {
            v.add("origin", "one of web_form, chat or phone_call is required");
            None
        }
        Some(PbOrigin::WebForm(form)) => {
            let contact_email = v.required(
                "web_form.contact_email",
                form.contact_email,
                MAX_EMAIL_CHARS,
            );
            if !contact_email.is_empty() && !is_email(&contact_email) {
                v.add("web_form.contact_email", "is not an e-mail address");
            }
            let contact_name =
                v.optional("web_form.contact_name", form.contact_name, MAX_NAME_CHARS);
            Some(Origin::WebForm {
                contact_email,
                contact_name,
            })
        }
        Some(PbOrigin::Chat(chat)) => {
            let session_id = v.required("chat.chat_session_id", chat.chat_session_id, MAX_ID_CHARS);
            let transcript_uri =
                v.optional("chat.transcript_uri", chat.transcript_uri, MAX_URI_CHARS);
            if transcript_uri
                .as_deref()
                .is_some_and(|uri| !is_http_uri(uri))
            {
                v.add("chat.transcript_uri", "must be an http or https URI");
            }
            let first_message = v.optional(
                "chat.first_message",
                chat.first_message,
                MAX_DESCRIPTION_CHARS,
            );
            if transcript_uri.is_none() && first_message.is_none() {
                v.add(
                    "chat.first_message",
                    "is required when chat.transcript_uri is not set",
                );
            }
            Some(Origin::Chat {
                session_id,
                transcript_uri,
                first_message,
            })
        }
        Some(PbOrigin::PhoneCall(call)) => {
            let call_id = v.required("phone_call.call_id", call.call_id, MAX_ID_CHARS);
            let caller_number = v.required(
                "phone_call.caller_number",
                call.caller_number,
                MAX_PHONE_NUMBER_CHARS,
            );
            if !caller_number.is_empty() && !is_e164(&caller_number) {
                v.add(
                    "phone_call.caller_number",
                    "must be an E.164 number, e.g. +14155550123",
                );
            }
            let region = v.required_enum("phone_call.region", call.region, region_from_proto);
            let dialed_number = v.required(
                "phone_call.dialed_number",
                call.dialed_number,
                MAX_PHONE_NUMBER_CHARS,
            );
            if let Some(region) = region
                && !dialed_number.is_empty()
                && !policy.is_support_line(region, &dialed_number)
            {
                v.add(
                    "phone_call.dialed_number",
                    format!(
                        "{} is not a support line for region {region}",
                        quoted(&dialed_number)
                    ),
                );
            }
            region.map(|region| Origin::Phone {
                call_id,
                caller_number,
                dialed_number,
                region,
            })
        }
    };
    let impact = impact(&mut v, "impact.", request.impact);
    let request_id = v.optional("request_id", request.request_id, MAX_REQUEST_ID_CHARS);
    if request_id.as_deref().is_some_and(|id| !is_request_id(id)) {
        v.add(
            "request_id",
            "may hold only letters, digits and - _ . : (a UUID is a good choice)",
        );
    }
    v.into_result()?;
    match (origin, impact) {
        (Some(origin), Some(impact)) => Ok(TicketRequest {
            account_id,
            origin,
            subject,
            description,
            impact,
            request_id,
        }),
        // Every `None` above recorded a violation, so into_result returned.
        _ => Err(Error::Internal(
            "validation let an incomplete ticket through".into(),
        )),
    }
}

/// `prefix` is the path of the Impact message in its request, e.g. `impact.`.
pub(super) fn impact(
    v: &mut Violations,
    prefix: &str,
    impact: Option<pb::Impact>,
) -> Option<Impact> {
    let field = |name: &str| format!("{prefix}{name}");
    let Some(impact) = impact else {
        v.add(prefix.trim_end_matches('.'), "is required");
        return None;
    };
    let kind = v.required_enum(&field("kind"), impact.kind, kind_from_proto)?;
    // Irrelevant fields are ignored, but an unknown number is still an error.
    let scope = v.filter_enum(&field("scope"), impact.scope, scope_from_proto);
    let workaround = v.filter_enum(
        &field("workaround"),
        impact.workaround,
        workaround_from_proto,
    );
    match Impact::new(kind, scope, workaround) {
        Ok(impact) => Some(impact),
        Err(MissingImpactField::Scope) if impact.scope == 0 => {
            v.add(&field("scope"), "is required when kind is PROBLEM");
            None
        }
        Err(MissingImpactField::Workaround) if impact.workaround == 0 => {
            v.add(
                &field("workaround"),
                "is required when scope is SERVICE_DOWN or DEGRADED",
            );
            None
        }
        // An unknown number, already reported by filter_enum.
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_need_a_plus_and_8_to_15_digits() {
        for good in ["+14155550123", "+442038905445", "+611800768027"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "14155550123",
            "+0123456789",
            "+1415",
            "+1 415 555 0123",
            "+1234567890123456",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn every_missing_field_of_an_empty_ticket_is_reported_at_once() {
        let err =
            create_ticket(pb::CreateTicketRequest::default(), &Policy::standard()).unwrap_err();
        let Error::InvalidArgument(violations) = err else {
            panic!("expected InvalidArgument");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, vec!["account", "subject", "origin", "impact"]);
    }
}
