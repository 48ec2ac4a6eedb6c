"""ticketd's gRPC errors as typed exceptions.

Every error ticketd returns carries, in the `grpc-status-details-bin` trailer, a
google.rpc.Status whose details hold a google.rpc.ErrorInfo (domain
`ticketd.support.v1`) with a reason to switch on; INVALID_ARGUMENT adds a
google.rpc.BadRequest with one violation per field, NOT_FOUND/ALREADY_EXISTS a
ResourceInfo, and UNAVAILABLE and RATE_LIMITED a RetryInfo. `from_rpc_error`
decodes them (with grpcio-status and googleapis-common-protos) into the classes
below:

    TicketdError                    any error; .code .message .reason .metadata
    ├── InvalidArgumentError        .field_violations, .fields
    ├── NotFoundError               .resource_type, .resource_name
    ├── AlreadyExistsError
    │   └── RequestIdReusedError    .request_id
    ├── ChannelNotInPlanError       .plan, .channel, .allowed_channel_names, .allowed_channels
    ├── UnauthenticatedError        UNAUTHENTICATED: no token, or an unknown or revoked one
    ├── PermissionDeniedError       PERMISSION_DENIED MISSING_SCOPE; .scope, .channel
    ├── RateLimitedError            RESOURCE_EXHAUSTED RATE_LIMITED; .retry_after (seconds)
    └── RetryableError              UNAVAILABLE or DEADLINE_EXCEEDED; .retry_delay, .attempts
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from ticketd_client.support.v1 import policy_pb2

ERROR_DOMAIN = "ticketd.support.v1"
"""`ErrorInfo.domain` of every error ticketd defines."""

# ErrorInfo.reason values (the server's list: `reason` in src/api/status.rs).
INVALID_FIELDS = "INVALID_FIELDS"
RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
CHANNEL_NOT_IN_PLAN = "CHANNEL_NOT_IN_PLAN"
REQUEST_ID_REUSED = "REQUEST_ID_REUSED"
# FAILED_PRECONDITION: the ticket's (or service request's) status does not allow
# the change; metadata `current_status`.
ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
# ABORTED: the ticket changed while the request was applied; retry.
CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
# ABORTED: a policy activation lost a race; metadata `expected_version` and
# `active_version` (the version activated meanwhile). Review it, do not retry blindly.
POLICY_VERSION_RACED = "POLICY_VERSION_RACED"
SURVEY_ALREADY_ANSWERED = "SURVEY_ALREADY_ANSWERED"
SERVICE_NOT_OFFERED = "SERVICE_NOT_OFFERED"
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
INTERNAL = "INTERNAL"
# WatchSlaStatus. The first and last carry metadata `resume_cursor`: call again with it.
WATCH_CONSUMER_TOO_SLOW = "WATCH_CONSUMER_TOO_SLOW"
WATCH_LIMIT_REACHED = "WATCH_LIMIT_REACHED"
SNAPSHOT_TOO_LARGE = "SNAPSHOT_TOO_LARGE"
SERVER_SHUTTING_DOWN = "SERVER_SHUTTING_DOWN"
# Credentials. UNAUTHENTICATED: no `authorization: Bearer <token>`, or a token
# ticketd does not know (or has revoked).
UNAUTHENTICATED = "UNAUTHENTICATED"
# PERMISSION_DENIED: the credential's role lacks metadata `scope` (e.g.
# `tickets.create`); for CreateTicket on a channel it may not use, also `channel`.
MISSING_SCOPE = "MISSING_SCOPE"
# RESOURCE_EXHAUSTED: this credential's rate limit is spent; retry after the
# `retry-after` metadata (whole seconds) or the RetryInfo. Nothing was applied.
RATE_LIMITED = "RATE_LIMITED"
# UNAVAILABLE: the server has as many calls in flight as it takes; retry with backoff.
OVERLOADED = "OVERLOADED"
# RESOURCE_EXHAUSTED: this credential has its share of the server's calls in
# flight (metadata `limit`); retry after the RetryInfo. Nothing was applied.
CREDENTIAL_IN_FLIGHT_LIMIT = "CREDENTIAL_IN_FLIGHT_LIMIT"
# DEADLINE_EXCEEDED: the call's deadline (or the server's request timeout) passed
# first (metadata `timeout_ms`). A CreateTicket may still have been written: retry
# with the same request_id, which returns the ticket if it was.
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
# The request itself is not one gRPC call ticketd reads: INVALID_ARGUMENT for a
# body that is not exactly one message; OUT_OF_RANGE for a message over the
# server's size limit; INVALID_ARGUMENT (HTTP 415 for non-gRPC types) for a
# content type other than protobuf.
MALFORMED_REQUEST = "MALFORMED_REQUEST"
MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
UNSUPPORTED_CONTENT_TYPE = "UNSUPPORTED_CONTENT_TYPE"

REASONS: frozenset[str] = frozenset(
    {
        INVALID_FIELDS,
        RESOURCE_NOT_FOUND,
        RESOURCE_ALREADY_EXISTS,
        CHANNEL_NOT_IN_PLAN,
        REQUEST_ID_REUSED,
        ILLEGAL_TRANSITION,
        CONCURRENT_UPDATE,
        POLICY_VERSION_RACED,
        SURVEY_ALREADY_ANSWERED,
        SERVICE_NOT_OFFERED,
        STORAGE_UNAVAILABLE,
        INTERNAL,
        WATCH_CONSUMER_TOO_SLOW,
        WATCH_LIMIT_REACHED,
        SNAPSHOT_TOO_LARGE,
        SERVER_SHUTTING_DOWN,
        UNAUTHENTICATED,
        MISSING_SCOPE,
        RATE_LIMITED,
        OVERLOADED,
        CREDENTIAL_IN_FLIGHT_LIMIT,
        DEADLINE_EXCEEDED,
        MALFORMED_REQUEST,
        MESSAGE_TOO_LARGE,
        UNSUPPORTED_CONTENT_TYPE,
    }
)
"""Every `ErrorInfo.reason` ticketd sends (domain `ERROR_DOMAIN`)."""

RETRYABLE_CODES: frozenset[grpc.StatusCode] = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
"""Codes after which the same request may be sent again (with the same request_id)."""


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: `field` is a path such as `phone_call.caller_number`."""

    field: str
    description: str


class TicketdError(Exception):
    """An error answered by ticketd (or by the transport on the way to it)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        resource_type: str = "",
        resource_name: str = "",
        retry_delay: float | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: Mapping[str, str] = dict(metadata or {})
        self.field_violations = field_violations
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.retry_delay = retry_delay
        self.retry_after = retry_after
        self.attempts = attempts

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.reason:
            text += f" [{self.reason}]"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return text

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


class InvalidArgumentError(TicketdError):
    """INVALID_ARGUMENT: the request was refused and nothing was written."""

    @property
    def fields(self) -> tuple[str, ...]:
        """The bad fields' paths, e.g. `("subject", "phone_call.caller_number")`."""
        return tuple(v.field for v in self.field_violations)


class NotFoundError(TicketdError):
    """NOT_FOUND: `resource_name` (e.g. `accounts/acme`) does not exist."""


class AlreadyExistsError(TicketdError):
    """ALREADY_EXISTS: e.g. an account id that is taken."""


class RequestIdReusedError(AlreadyExistsError):
    """ALREADY_EXISTS / REQUEST_ID_REUSED: the request_id was used for a different ticket."""

    @property
    def request_id(self) -> str:
        return self.metadata.get("request_id", "")


class ChannelNotInPlanError(TicketdError):
    """FAILED_PRECONDITION / CHANNEL_NOT_IN_PLAN: the account's plan excludes the channel.

    `allowed_channel_names` are the enum names the server listed, in its order
    (e.g. `("CHANNEL_WEB_FORM", "CHANNEL_CHAT")`); `allowed_channels` the same as
    `support.v1.Channel` values, leaving out any name this client does not know.
    """

    @property
    def plan(self) -> str:
        return self.metadata.get("plan", "")

    @property
    def channel(self) -> str:
        return self.metadata.get("channel", "")

    @property
    def allowed_channel_names(self) -> tuple[str, ...]:
        raw = self.metadata.get("allowed_channels", "")
        return tuple(name.strip() for name in raw.split(",") if name.strip())

    @property
    def allowed_channels(self) -> tuple[policy_pb2.Channel.ValueType, ...]:
        known = set(policy_pb2.Channel.keys())
        return tuple(policy_pb2.Channel.Value(name) for name in self.allowed_channel_names if name in known)


class UnauthenticatedError(TicketdError):
    """UNAUTHENTICATED: the call carried no `authorization: Bearer <token>`, or a token
    ticketd does not accept (malformed, unknown or revoked). Pass `token=` to `TicketdClient`."""


class PermissionDeniedError(TicketdError):
    """PERMISSION_DENIED / MISSING_SCOPE: the credential is valid but its role lacks `scope`.

    For CreateTicket from an intake credential, `channel` names the channel
    (e.g. `CHANNEL_CHAT`) it may not create tickets on; "" otherwise.
    """

    @property
    def scope(self) -> str:
        return self.metadata.get("scope", "")

    @property
    def channel(self) -> str:
        return self.metadata.get("channel", "")


class RateLimitedError(TicketdError):
    """RESOURCE_EXHAUSTED / RATE_LIMITED: this credential's rate limit is spent.

    The server refused the call before doing anything, so sending it again is
    safe. `retry_after` is the wait in seconds the server asked for (its
    `retry-after` metadata, else the RetryInfo); `retry_delay` is the RetryInfo's
    exact delay.
    """

    @property
    def retryable(self) -> bool:
        return True


class RetryableError(TicketdError):
    """UNAVAILABLE or DEADLINE_EXCEEDED: the request may or may not have been applied.

    Retry with the same request_id. `retry_delay` is the server's RetryInfo hint in seconds, if any.
    """


def _status_of(error: grpc.RpcError) -> status_pb2.Status | None:
    try:
        return rpc_status.from_call(error)  # type: ignore[arg-type]
    except (AttributeError, TypeError, ValueError):
        # Not a grpc.Call (e.g. raised by an interceptor), or a trailer that
        # does not agree with the status line: fall back to code and details.
        return None


def _retry_after(error: grpc.RpcError) -> float | None:
    """The `retry-after` metadata (seconds) of a call's trailers, or headers; None when absent or not a number."""
    for name in ("trailing_metadata", "initial_metadata"):
        fn = getattr(error, name, None)
        pairs = fn() if callable(fn) else None
        for key, value in pairs or ():
            if key.lower() == "retry-after":
                text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
                try:
                    seconds = float(text.strip())
                except ValueError:
                    return None
                return seconds if seconds >= 0 else None
    return None


def from_rpc_error(error: grpc.RpcError, *, attempts: int = 1) -> TicketdError:
    """Decodes a `grpc.RpcError` from a ticketd call into the matching `TicketdError` subclass."""
    code_fn = getattr(error, "code", None)
    details_fn = getattr(error, "details", None)
    code: grpc.StatusCode = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    message: str = (details_fn() if callable(details_fn) else None) or str(error)

    fields: dict[str, Any] = {"attempts": attempts}
    violations: list[FieldViolation] = []
    status = _status_of(error)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                fields.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
            elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
                resource = error_details_pb2.ResourceInfo()
                detail.Unpack(resource)
                fields.update(resource_type=resource.resource_type, resource_name=resource.resource_name)
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                fields["retry_delay"] = retry.retry_delay.ToTimedelta().total_seconds()
    fields["field_violations"] = tuple(violations)
    reason = fields.get("reason", "")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and reason == RATE_LIMITED:
        fields["retry_after"] = _retry_after(error)
        if fields["retry_after"] is None:
            fields["retry_after"] = fields.get("retry_delay")

    cls: type[TicketdError] = TicketdError
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        cls = InvalidArgumentError
    elif code == grpc.StatusCode.NOT_FOUND:
        cls = NotFoundError
    elif code == grpc.StatusCode.ALREADY_EXISTS:
        cls = RequestIdReusedError if reason == REQUEST_ID_REUSED else AlreadyExistsError
    elif code == grpc.StatusCode.FAILED_PRECONDITION and reason == CHANNEL_NOT_IN_PLAN:
        cls = ChannelNotInPlanError
    elif code == grpc.StatusCode.UNAUTHENTICATED:
        cls = UnauthenticatedError
    elif code == grpc.StatusCode.PERMISSION_DENIED:
        cls = PermissionDeniedError
    elif code == grpc.StatusCode.RESOURCE_EXHAUSTED and reason == RATE_LIMITED:
        cls = RateLimitedError
    elif code in RETRYABLE_CODES:
        cls = RetryableError
    return cls(code, message, **fields)
