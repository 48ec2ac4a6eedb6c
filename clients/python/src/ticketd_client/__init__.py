"""Python client for ticketd, the support-ticket gRPC service (proto package `support.v1`).

- `ticketd_client.support.v1`: the generated messages (`*_pb2`), gRPC stubs
  (`*_pb2_grpc`) and their type stubs, made by `generate.sh` from `proto/support/v1`.
- `TicketdClient`: a channel to the server with both stubs, optional TLS, a
  bearer token and extra metadata sent on every call.
- `ticketd_client.errors`: gRPC errors decoded into typed exceptions, with the
  google.rpc details the server attaches (ErrorInfo, BadRequest, RetryInfo),
  including the credential refusals (UNAUTHENTICATED, MISSING_SCOPE, RATE_LIMITED).
- `ticketd_client.ivr`: what the phone IVR needs: `register_call` (idempotent,
  retried), the Free-plan refusal as `ChannelNotInPlanError`, and the ticket
  number as words to speak back.
"""

from ticketd_client.client import DEFAULT_ADDRESS, TicketdClient
from ticketd_client.errors import (
    ChannelNotInPlanError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestIdReusedError,
    RetryableError,
    TicketdError,
    UnauthenticatedError,
)
from ticketd_client.ivr import (
    RegisteredCall,
    RetryPolicy,
    SpokenNumber,
    register_call,
    request_id_for_call,
    spoken_ticket_number,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_ADDRESS",
    "ChannelNotInPlanError",
    "FieldViolation",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RegisteredCall",
    "RequestIdReusedError",
    "RetryPolicy",
    "RetryableError",
    "SpokenNumber",
    "TicketdClient",
    "TicketdError",
    "UnauthenticatedError",
    "register_call",
    "request_id_for_call",
    "spoken_ticket_number",
]
