//! The protobuf codec of the generated servers and clients: prost's, except
//! for what a request that does not decode answers. tonic's codec answers
//! INTERNAL for it (invalid UTF-8 in a `string` field, a truncated field, a
//! wrong wire type), which tells the caller the server is at fault and
//! invites retries. The request is at fault, so the server answers
//! INVALID_ARGUMENT with a field violation naming the field, like every other
//! bad request (see `status.rs`). A response that does not decode is still
//! INTERNAL for the client.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec as TonicCodec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

use crate::error::{Error, FieldViolation};

/// Bytes of encoded messages a response stream gathers before handing them
/// on; a larger single message still goes as one.
const ENCODE_BUFFER: usize = 8 * 1024;

/// Named by `build.rs` (`codec_path`), so every generated service uses it.
#[derive(Debug, Clone)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> TonicCodec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = MessageDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        // tonic's default lets a stream gather 32 KiB before handing it to
        // HTTP/2, which holds the chunk for as long as the client does not
        // read: per stalled watch stream, that is memory no budget counts.
        ProstEncoder::new(BufferSettings::new(ENCODE_BUFFER, ENCODE_BUFFER))
    }

    fn decoder(&mut self) -> Self::Decoder {
        MessageDecoder(PhantomData)
    }
}

#[derive(Debug, Clone)]
pub struct MessageDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for MessageDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf)
            .map(Some)
            .map_err(|err| decode_error_status::<U>(&err))
    }
}

/// The status for a message of type `U` that did not decode. Requests are
/// told apart by name: buf's STANDARD lint makes every RPC's input an
/// `XRequest` and its output an `XResponse`.
pub fn decode_error_status<U>(err: &prost::DecodeError) -> Status {
    if std::any::type_name::<U>().ends_with("Request") {
        Status::from(request_decode_error(err))
    } else {
        Status::internal(err.to_string())
    }
}

/// The error for a request message that did not decode: a violation naming
/// the field.
pub fn request_decode_error(err: &prost::DecodeError) -> Error {
    Error::InvalidArgument(vec![FieldViolation::new(
        field_path(err),
        format!("could not be decoded: {}", description(err)),
    )])
}

/// prost's error text is `failed to decode Protobuf message: ` then one
/// `Message.field: ` per level, innermost first, then the cause. prost keeps
/// the levels private, so they are read back from the text.
fn levels(err: &prost::DecodeError) -> (Vec<(String, String)>, String) {
    let text = err.to_string();
    let mut rest = text
        .strip_prefix("failed to decode Protobuf message: ")
        .unwrap_or(&text);
    let mut levels = Vec::new();
    while let Some((head, tail)) = rest.split_once(": ") {
        let Some((message, field)) = head.split_once('.') else {
            break;
        };
        let is_ident =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !is_ident(message) || !is_ident(field) {
            break;
        }
        levels.push((message.to_owned(), field.to_owned()));
        rest = tail;
    }
    (levels, rest.to_owned())
}

fn description(err: &prost::DecodeError) -> String {
    levels(err).1
}

/// The path of the field that did not decode, outermost first, e.g.
/// `chat.first_message`; empty when the damage is not inside a known field.
/// prost names a oneof by the oneof (`origin`); the path names the member
/// (`chat`), found from the message type one level in.
pub fn field_path(err: &prost::DecodeError) -> String {
    let (mut levels, _) = levels(err);
    levels.reverse();
    let mut path = Vec::with_capacity(levels.len());
    for (i, (message, field)) in levels.iter().enumerate() {
        let inner = levels.get(i + 1).map(|(inner, _)| inner.as_str());
        path.push(
            inner
                .and_then(|inner| oneof_member(message, field, inner))
                .unwrap_or(field)
                .to_owned(),
        );
    }
    path.join(".")
}

/// For oneof `oneof` of `message`, the member whose type is `member_type`.
fn oneof_member(message: &str, oneof: &str, member_type: &str) -> Option<&'static str> {
    oneof_members()
        .get(&(message.to_owned(), oneof.to_owned(), member_type.to_owned()))
        .map(String::as_str)
}

/// (message, oneof, member type) → member name, for every oneof with
/// message-typed members in the contract, read from the descriptor set the
/// reflection service serves.
fn oneof_members() -> &'static HashMap<(String, String, String), String> {
    static MEMBERS: OnceLock<HashMap<(String, String, String), String>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        let mut members = HashMap::new();
        let Ok(set) = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
        else {
            return members;
        };
        let messages = set.file.iter().flat_map(|file| file.message_type.iter());
        for message in messages {
            for field in &message.field {
                let Some(oneof) = field
                    .oneof_index
                    .filter(|_| !field.proto3_optional())
                    .and_then(|i| message.oneof_decl.get(usize::try_from(i).ok()?))
                else {
                    continue;
                };
                let member_type = field.type_name().rsplit('.').next().unwrap_or_default();
                if !member_type.is_empty() {
                    members.insert(
                        (
                            message.name().to_owned(),
                            oneof.name().to_owned(),
                            member_type.to_owned(),
                        ),
                        field.name().to_owned(),
                    );
                }
            }
        }
        members
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;
    use crate::proto::pb;

    /// A field of `tag` with length-delimited `bytes`.
    fn delimited(tag: u32, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, &mut out);
        prost::encoding::encode_varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(bytes);
        out
    }

    fn violations(status: &Status) -> Vec<String> {
        status
            .get_details_bad_request()
            .expect("BadRequest details")
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn invalid_utf8_in_a_request_is_invalid_argument_naming_the_field() {
        // CreateTicketRequest.subject (5) holds a lone continuation byte.
        let bytes = delimited(5, b"caf\x80");
        let err = pb::CreateTicketRequest::decode(&bytes[..]).unwrap_err();
        let status = decode_error_status::<pb::CreateTicketRequest>(&err);
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(violations(&status), ["subject"]);
        assert!(status.message().contains("UTF-8"), "{status:?}");
    }

    #[test]
    fn a_field_inside_a_oneof_member_is_named_by_the_member() {
        // CreateTicketRequest.chat (3) → ChatSession.first_message (3).
        let bytes = delimited(3, &delimited(3, b"\xff"));
        let err = pb::CreateTicketRequest::decode(&bytes[..]).unwrap_err();
        let status = decode_error_status::<pb::CreateTicketRequest>(&err);
        assert_eq!(violations(&status), ["chat.first_message"]);
    }

    #[test]
    fn a_nested_message_field_is_named_by_its_path() {
        // UpdateAccountRequest.account (1) → Account.display_name (2).
        let bytes = delimited(1, &delimited(2, b"\xc3"));
        let err = pb::UpdateAccountRequest::decode(&bytes[..]).unwrap_err();
        let status = decode_error_status::<pb::UpdateAccountRequest>(&err);
        assert_eq!(violations(&status), ["account.display_name"]);
    }

    #[test]
    fn damage_outside_any_field_still_answers_invalid_argument() {
        // A key with field number 0 is never valid.
        let err = pb::GetTicketRequest::decode(&[0x00, 0x00][..]).unwrap_err();
        let status = decode_error_status::<pb::GetTicketRequest>(&err);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violations(&status), [""]);
    }

    #[test]
    fn a_response_that_does_not_decode_is_internal_for_the_client() {
        let bytes = delimited(1, &delimited(9, b"\xff"));
        let err = pb::GetTicketResponse::decode(&bytes[..]).unwrap_err();
        let status = decode_error_status::<pb::GetTicketResponse>(&err);
        assert_eq!(status.code(), Code::Internal);
    }
}
