"""Parts of the client that need no server: speech, backoff, error decoding, packaging."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from conftest import REPO_ROOT
from faults import InjectedRpcError
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]

import ticketd_client
from ticketd_client import (
    ChannelNotInPlanError,
    InvalidArgumentError,
    PermissionDeniedError,
    RateLimitedError,
    RegisteredCall,
    RetryableError,
    RetryPolicy,
    TicketdError,
    UnauthenticatedError,
)
from ticketd_client import errors
from ticketd_client.client import parse_address
from ticketd_client.errors import REASONS, from_rpc_error
from ticketd_client.ivr import (
    register_call,
    request_id_for_call,
    spoken_channels,
    spoken_duration,
    spoken_ticket_number,
)
from ticketd_client.support.v1 import policy_pb2, ticket_pb2, ticket_service_pb2


def test_ticket_number_is_spoken_digit_by_digit_in_groups() -> None:
    spoken = spoken_ticket_number(10423)
    assert spoken.digits == "104 23"
    assert spoken.words == "one zero four, two three"
    assert spoken.ssml == '<say-as interpret-as="digits">10423</say-as>'
    assert spoken_ticket_number(7).words == "seven"
    assert spoken_ticket_number(1000, group_size=2).words == "one zero, zero zero"
    with pytest.raises(ValueError):
        spoken_ticket_number(0)


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(hours=1), "one hour"),
        (timedelta(hours=4), "four hours"),
        (timedelta(hours=24), "twenty-four hours"),
        (timedelta(minutes=30), "thirty minutes"),
    ],
)
def test_response_target_in_words(duration: timedelta, words: str) -> None:
    assert spoken_duration(duration) == words


def test_channels_in_words() -> None:
    assert spoken_channels(["CHANNEL_WEB_FORM", "CHANNEL_CHAT"]) == "the web form or chat"
    assert spoken_channels(["CHANNEL_CHAT"]) == "chat"
    assert spoken_channels(["CHANNEL_WEB_FORM", "CHANNEL_CHAT", "CHANNEL_CARRIER_PIGEON"]) == (
        "the web form, chat or carrier pigeon"
    )


def test_request_id_is_stable_per_call_and_within_server_limits() -> None:
    rid = request_id_for_call("call/with spaces and ünicode" * 5)
    assert rid == request_id_for_call("call/with spaces and ünicode" * 5)
    assert rid != request_id_for_call("another-call")
    assert len(rid) <= 64 and all(c.isalnum() or c in "-_.:" for c in rid)


def test_backoff_grows_is_capped_and_honours_the_server_hint() -> None:
    policy = RetryPolicy(initial_backoff=0.2, multiplier=2.0, max_backoff=1.0, jitter=0.0)
    assert [policy.backoff(n) for n in (2, 3, 4, 5, 6)] == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0])
    assert policy.backoff(2, server_hint=0.7) == pytest.approx(0.7)
    assert policy.backoff(2, server_hint=30.0) == pytest.approx(1.0)
    jittered = RetryPolicy(initial_backoff=1.0, max_backoff=10.0, jitter=0.2)
    assert jittered.backoff(2, rand=0.0) == pytest.approx(0.8)
    assert jittered.backoff(2, rand=0.999999) == pytest.approx(1.2, rel=1e-3)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


class _AlwaysUnavailable:
    """A TicketServiceStub stand-in whose CreateTicket always fails; records each timeout."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def CreateTicket(  # noqa: N802 (gRPC method name)
        self, request: ticket_service_pb2.CreateTicketRequest, timeout: float, metadata: object
    ) -> ticket_service_pb2.CreateTicketResponse:
        self.timeouts.append(timeout)
        raise InjectedRpcError(grpc.StatusCode.UNAVAILABLE, "down")


def test_total_timeout_bounds_the_attempts_and_their_deadlines() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    stub = _AlwaysUnavailable()
    policy = RetryPolicy(max_attempts=10, initial_backoff=1.0, multiplier=1.0, max_backoff=1.0, jitter=0.0,
                         attempt_timeout=3.0, total_timeout=2.5)
    with pytest.raises(RetryableError) as caught:
        register_call(
            stub,  # type: ignore[arg-type]
            account="acme", call_id="c1", caller_number="+14155550123", dialed_number="+18887999666",
            region=policy_pb2.REGION_US, subject="s", kind=policy_pb2.REQUEST_KIND_INFORMATION,
            retry=policy, sleep=sleep, clock=lambda: now[0],
        )
    # t=0 attempt (2.5 s left), sleep 1, t=1 attempt (1.5 s left), sleep 1, t=2 attempt (0.5 s left);
    # a fourth would start at t=3, past the budget.
    assert stub.timeouts == pytest.approx([2.5, 1.5, 0.5])
    assert caught.value.attempts == 3


def _status_error(
    code: grpc.StatusCode, message: str, *details: Message, trailers: tuple[tuple[str, str], ...] = ()
) -> InjectedRpcError:
    packed = []
    for detail in details:
        any_ = any_pb2.Any()
        any_.Pack(detail)
        packed.append(any_)
    status = status_pb2.Status(code=code.value[0], message=message, details=packed)
    return InjectedRpcError(code, message, status, trailers)


def _rate_limited(retry_after: str | None, exact: float = 0.25) -> InjectedRpcError:
    """RESOURCE_EXHAUSTED RATE_LIMITED as ticketd sends it: ErrorInfo, RetryInfo and `retry-after` metadata."""
    delay = duration_pb2.Duration()
    delay.FromTimedelta(timedelta(seconds=exact))
    return _status_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "this credential's rate limit is spent",
        error_details_pb2.ErrorInfo(reason="RATE_LIMITED", domain="ticketd.support.v1"),
        error_details_pb2.RetryInfo(retry_delay=delay),
        trailers=(("retry-after", retry_after),) if retry_after is not None else (),
    )


def test_credential_refusals_are_decoded_into_typed_errors() -> None:
    missing = from_rpc_error(
        _status_error(
            grpc.StatusCode.UNAUTHENTICATED,
            "missing credentials",
            error_details_pb2.ErrorInfo(reason="UNAUTHENTICATED", domain="ticketd.support.v1"),
        )
    )
    assert isinstance(missing, UnauthenticatedError) and not missing.retryable

    denied = from_rpc_error(
        _status_error(
            grpc.StatusCode.PERMISSION_DENIED,
            "this credential lacks scope tickets.create for channel CHANNEL_CHAT",
            error_details_pb2.ErrorInfo(
                reason="MISSING_SCOPE",
                domain="ticketd.support.v1",
                metadata={"scope": "tickets.create", "channel": "CHANNEL_CHAT"},
            ),
        )
    )
    assert isinstance(denied, PermissionDeniedError)
    assert (denied.scope, denied.channel) == ("tickets.create", "CHANNEL_CHAT")

    limited = from_rpc_error(_rate_limited("1"))
    assert isinstance(limited, RateLimitedError) and limited.retryable
    assert (limited.retry_after, limited.retry_delay) == (1.0, 0.25)
    # Without the metadata (e.g. a proxy dropped it), the RetryInfo says how long.
    assert from_rpc_error(_rate_limited(None)).retry_after == 0.25
    # Other RESOURCE_EXHAUSTED reasons are not rate limits.
    other = from_rpc_error(
        _status_error(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "x", error_details_pb2.ErrorInfo(reason="WATCH_LIMIT_REACHED")
        )
    )
    assert type(other) is TicketdError and other.retry_after is None


class _RateLimitedThenOk:
    """A TicketServiceStub stand-in: CreateTicket is refused `times` times with `error()`, then answers."""

    def __init__(self, error: Callable[[], InjectedRpcError], times: int = 1) -> None:
        self.error = error
        self.times = times
        self.calls = 0

    def CreateTicket(  # noqa: N802 (gRPC method name)
        self, request: ticket_service_pb2.CreateTicketRequest, timeout: float, metadata: object
    ) -> ticket_service_pb2.CreateTicketResponse:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error()
        return ticket_service_pb2.CreateTicketResponse(ticket=ticket_pb2.Ticket(number=7, request_id=request.request_id))


def _register(stub: _RateLimitedThenOk, policy: RetryPolicy, sleep: Callable[[float], None]) -> RegisteredCall:
    return register_call(
        stub,  # type: ignore[arg-type]
        account="acme", call_id="c1", caller_number="+14155550123", dialed_number="+18887999666",
        region=policy_pb2.REGION_US, subject="s", kind=policy_pb2.REQUEST_KIND_INFORMATION,
        retry=policy, sleep=sleep, clock=lambda: 0.0, rand=lambda: 0.5,
    )


def test_rate_limited_calls_wait_for_retry_after_or_give_up_at_once() -> None:
    # The server's retry-after (3 s) is honoured although it is above max_backoff (2 s): sooner is refused again.
    sleeps: list[float] = []
    stub = _RateLimitedThenOk(lambda: _rate_limited("3"))
    call = _register(stub, RetryPolicy(), sleeps.append)
    assert (call.attempts, sleeps) == (2, [3.0])

    # A wait past total_timeout is not slept: the error comes back at once, with retry_after.
    sleeps.clear()
    with pytest.raises(RateLimitedError) as caught:
        _register(_RateLimitedThenOk(lambda: _rate_limited("30")), RetryPolicy(total_timeout=15), sleeps.append)
    assert (caught.value.attempts, caught.value.retry_after, sleeps) == (1, 30.0, [])

    # retry_rate_limited=False: no retry.
    with pytest.raises(RateLimitedError):
        _register(_RateLimitedThenOk(lambda: _rate_limited("1")), RetryPolicy(retry_rate_limited=False), sleeps.append)
    assert sleeps == []


def test_every_reason_the_server_sends_is_listed() -> None:
    """`reason` in src/api/status.rs is the server's list; a reason added there must be added here."""
    status_rs = (REPO_ROOT / "src" / "api" / "status.rs").read_text()
    module = re.search(r"pub mod reason \{(.*?)\n\}", status_rs, re.S)
    assert module, "no `pub mod reason` in src/api/status.rs"
    server = set(re.findall(r'pub const [A-Z_]+: &str = "([A-Z_]+)";', module.group(1)))
    assert len(server) > 10, server
    assert server == set(REASONS), f"missing here: {sorted(server - REASONS)}; not on the server: {sorted(REASONS - server)}"
    for reason in server:
        assert getattr(errors, reason) == reason, f"ticketd_client.errors.{reason}"


def test_error_details_are_decoded_into_typed_errors() -> None:
    refusal = from_rpc_error(
        _status_error(
            grpc.StatusCode.FAILED_PRECONDITION,
            "plan PLAN_FREE does not include CHANNEL_PHONE",
            error_details_pb2.ErrorInfo(
                reason="CHANNEL_NOT_IN_PLAN",
                domain="ticketd.support.v1",
                metadata={"plan": "PLAN_FREE", "channel": "CHANNEL_PHONE", "allowed_channels": "CHANNEL_CHAT,CHANNEL_NEW"},
            ),
        )
    )
    assert isinstance(refusal, ChannelNotInPlanError)
    assert refusal.allowed_channel_names == ("CHANNEL_CHAT", "CHANNEL_NEW")
    assert refusal.allowed_channels == (policy_pb2.CHANNEL_CHAT,)  # an unknown name is kept out, not fatal

    invalid = from_rpc_error(
        _status_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid request",
            error_details_pb2.ErrorInfo(reason="INVALID_FIELDS", domain="ticketd.support.v1"),
            error_details_pb2.BadRequest(
                field_violations=[error_details_pb2.BadRequest.FieldViolation(field="subject", description="is required")]
            ),
        )
    )
    assert isinstance(invalid, InvalidArgumentError)
    assert invalid.fields == ("subject",)
    assert "INVALID_ARGUMENT" in str(invalid)

    # FAILED_PRECONDITION with another reason, and an error without details, stay plain TicketdErrors.
    other = from_rpc_error(_status_error(grpc.StatusCode.FAILED_PRECONDITION, "x", error_details_pb2.ErrorInfo(reason="OTHER")))
    assert type(other) is TicketdError
    bare = from_rpc_error(InjectedRpcError(grpc.StatusCode.INTERNAL, "boom"))
    assert type(bare) is TicketdError and bare.reason == "" and bare.message == "boom"


def test_addresses() -> None:
    assert parse_address("http://127.0.0.1:50051") == ("127.0.0.1:50051", False)
    assert parse_address("https://ticketd.example.com:443/") == ("ticketd.example.com:443", True)
    assert parse_address("localhost:50051") == ("localhost:50051", False)
    with pytest.raises(ValueError):
        parse_address("unix+tcp://x")


def test_every_generated_module_imports_from_the_package() -> None:
    import ticketd_client.support.v1 as v1

    names = sorted(m.name for m in pkgutil.iter_modules(v1.__path__))
    # One message module and one gRPC module per .proto file: a proto added or
    # removed without rerunning generate.sh shows here.
    protos = sorted(p.stem for p in (REPO_ROOT / "proto" / "support" / "v1").glob("*.proto"))
    assert protos, "no .proto files found"
    assert names == sorted(f"{base}{suffix}" for base in protos for suffix in ("_pb2", "_pb2_grpc"))
    for name in names:
        importlib.import_module(f"ticketd_client.support.v1.{name}")
    # Messages know their Python home (used by pickle and repr).
    assert ticket_pb2.Ticket.__module__ == "ticketd_client.support.v1.ticket_pb2"
    # Type stubs and the py.typed marker are installed with the package.
    package_dir = Path(ticketd_client.__file__).parent
    assert (package_dir / "py.typed").is_file()
    assert sorted(p.name for p in (package_dir / "support" / "v1").glob("*.pyi")) == sorted(f"{n}.pyi" for n in names)
