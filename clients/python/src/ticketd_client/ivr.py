"""What the phone IVR needs from ticketd.

- `register_call` opens the phone ticket for a call. It sends one request_id
  for every attempt (by default derived from the IVR's call id), and retries
  UNAVAILABLE and DEADLINE_EXCEEDED with bounded, jittered backoff: ticketd
  answers a repeated request_id with the ticket it already made (AIP-155), so
  a flaky line never makes two tickets. A RATE_LIMITED refusal is retried
  after the server's `retry-after`, when that fits in the time allowed.
- A plan without phone support raises `ChannelNotInPlanError`, whose
  `allowed_channel_names` say what the caller may use instead;
  `refusal_prompt` words it for the caller.
- `spoken_ticket_number` and `RegisteredCall.confirmation_prompt` give the
  ticket number digit by digit, to speak back.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import grpc

from ticketd_client.client import Metadata, TicketdClient, account_name
from ticketd_client.errors import (
    ChannelNotInPlanError,
    RateLimitedError,
    RetryableError,
    TicketdError,
    from_rpc_error,
)
from ticketd_client.support.v1 import policy_pb2, ticket_pb2, ticket_service_pb2, ticket_service_pb2_grpc

# Fixed namespace for request ids derived from call ids. Changing it would let a
# retried call after an upgrade make a second ticket: keep it.
_REQUEST_ID_NAMESPACE = uuid.UUID("6f1f3c55-2a53-4d3c-9d0e-3b6f3a1e7c21")


def request_id_for_call(call_id: str) -> str:
    """The request_id `register_call` uses for a call id: the same call id always gives the same id.

    The result (`ivr-` and 32 hex digits) fits ticketd's limit of 64 letters,
    digits and `-_.:` whatever the call id looks like.
    """
    if not call_id:
        raise ValueError("call_id is required")
    return "ivr-" + uuid.uuid5(_REQUEST_ID_NAMESPACE, call_id).hex


@dataclass(frozen=True)
class RetryPolicy:
    """How `register_call` retries UNAVAILABLE and DEADLINE_EXCEEDED, and RATE_LIMITED.

    Attempt n (n >= 2) waits `initial_backoff * multiplier**(n-2)`, raised to the
    server's RetryInfo hint if larger, capped at `max_backoff`, then spread by
    +/- `jitter` (a fraction). Each attempt has `attempt_timeout` seconds; no
    attempt starts, and none runs, past `total_timeout` from the first.

    RESOURCE_EXHAUSTED RATE_LIMITED (the credential's rate limit is spent; the
    server did nothing) is retried when `retry_rate_limited`, after at least the
    server's `retry-after`, which `max_backoff` does not cap: an earlier
    attempt would only be refused again. When that wait would pass
    `total_timeout`, the `RateLimitedError` is raised at once.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.2
    multiplier: float = 2.0
    max_backoff: float = 2.0
    jitter: float = 0.2
    attempt_timeout: float = 3.0
    total_timeout: float = 15.0
    retryable_codes: frozenset[grpc.StatusCode] = field(
        default_factory=lambda: frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
    )
    retry_rate_limited: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.attempt_timeout <= 0 or self.total_timeout <= 0:
            raise ValueError("timeouts must be positive")

    def backoff(self, attempt: int, server_hint: float | None = None, rand: float = 0.5) -> float:
        """Seconds to wait before `attempt` (2 for the first retry); `rand` in [0, 1) picks the jitter."""
        base = self.initial_backoff * self.multiplier ** max(attempt - 2, 0)
        if server_hint is not None:
            base = max(base, server_hint)
        base = min(base, self.max_backoff)
        return min(self.max_backoff, base * (1 - self.jitter + 2 * self.jitter * rand))

    def delay_after(self, error: TicketdError, attempt: int, rand: float = 0.5) -> float | None:
        """Seconds to wait before `attempt` after `error`, or None when `error` is not retried."""
        if isinstance(error, RateLimitedError):
            if not self.retry_rate_limited:
                return None
            server_wait = error.retry_after if error.retry_after is not None else error.retry_delay
            return max(self.backoff(attempt, None, rand), server_wait or 0.0)
        if error.code in self.retryable_codes:
            return self.backoff(attempt, error.retry_delay, rand)
        return None


NO_RETRY = RetryPolicy(max_attempts=1)


_PRIORITY_WORDS: dict[int, tuple[str, str]] = {
    policy_pb2.PRIORITY_P1_URGENT: ("P1", "urgent"),
    policy_pb2.PRIORITY_P2_HIGH: ("P2", "high"),
    policy_pb2.PRIORITY_P3_NORMAL: ("P3", "normal"),
    policy_pb2.PRIORITY_P4_LOW: ("P4", "low"),
}


@dataclass(frozen=True)
class RegisteredCall:
    """The phone ticket ticketd made for a call."""

    ticket: ticket_pb2.Ticket
    request_id: str
    attempts: int

    @property
    def name(self) -> str:
        """`tickets/{uuid}`."""
        return self.ticket.name

    @property
    def number(self) -> int:
        """The human-friendly ticket number, to read to the caller."""
        return self.ticket.number

    @property
    def priority(self) -> policy_pb2.Priority.ValueType:
        return self.ticket.priority_decision.priority

    @property
    def priority_label(self) -> str:
        """E.g. `P1 urgent`."""
        short, word = _PRIORITY_WORDS.get(self.priority, ("P?", "unknown"))
        return f"{short} {word}"

    @property
    def received_at(self) -> datetime:
        return self.ticket.received_at.ToDatetime(tzinfo=timezone.utc)

    @property
    def response_due_at(self) -> datetime:
        return self.ticket.response_due_at.ToDatetime(tzinfo=timezone.utc)

    @property
    def response_target(self) -> timedelta:
        return self.ticket.response_target.ToTimedelta()

    def spoken_number(self) -> SpokenNumber:
        return spoken_ticket_number(self.number)

    def confirmation_prompt(self) -> str:
        """What the IVR says once the ticket exists, e.g. `Your ticket number is one zero
        four, two. Its priority is urgent. We will respond within one hour.`"""
        _, word = _PRIORITY_WORDS.get(self.priority, ("", "unknown"))
        return (
            f"Your ticket number is {self.spoken_number().words}. "
            f"Its priority is {word}. "
            f"We will respond within {spoken_duration(self.response_target)}."
        )


def register_call(
    client: TicketdClient | ticket_service_pb2_grpc.TicketServiceStub,
    *,
    account: str,
    call_id: str,
    caller_number: str,
    dialed_number: str,
    region: policy_pb2.Region.ValueType,
    subject: str,
    kind: policy_pb2.RequestKind.ValueType,
    scope: policy_pb2.ImpactScope.ValueType = policy_pb2.IMPACT_SCOPE_UNSPECIFIED,
    workaround: policy_pb2.Workaround.ValueType = policy_pb2.WORKAROUND_UNSPECIFIED,
    description: str = "",
    request_id: str | None = None,
    retry: RetryPolicy = RetryPolicy(),
    metadata: Metadata = (),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rand: Callable[[], float] = random.random,
) -> RegisteredCall:
    """Opens the phone ticket for a call and returns it.

    Args:
        client: a `TicketdClient` or a `TicketServiceStub`.
        account: the caller's account, `acme` or `accounts/acme`.
        call_id: the IVR's call id.
        caller_number: the caller's number in E.164 form, e.g. `+14155550123`.
        dialed_number: the support line dialed (E.164); one of the policy's lines for `region`.
        region: the region of that line, e.g. `policy_pb2.REGION_US`.
        subject: one-line summary (required).
        kind, scope, workaround: the impact the caller stated; ticketd picks the priority.
        request_id: idempotency key; default `request_id_for_call(call_id)`, so
            registering the same call again (even from a restarted IVR) returns the
            same ticket. Every attempt sends the same id.
        retry: attempts and backoff for UNAVAILABLE / DEADLINE_EXCEEDED and RATE_LIMITED.
        metadata: extra call metadata, e.g. `[("x-ivr-node", "ivr-7")]`; an
            `authorization` here wins over the client's token.
        sleep, clock, rand: injectable for tests.

    Raises:
        ChannelNotInPlanError: the plan has no phone support; not retried.
        InvalidArgumentError: bad fields (`.fields` names them); nothing was written.
        NotFoundError: no such account.
        RequestIdReusedError: the request_id was already used for a different ticket.
        RetryableError: still UNAVAILABLE / DEADLINE_EXCEEDED after the last attempt
            (`.attempts` says how many); calling again with the same call id is safe.
        RateLimitedError: still RATE_LIMITED, or its `.retry_after` does not fit in
            `retry.total_timeout`; nothing was written.
        UnauthenticatedError: no token, or one ticketd does not accept.
        PermissionDeniedError: the credential may not create phone tickets
            (`.scope`, `.channel`); an IVR needs an intake credential with channel phone.
        TicketdError: anything else.
    """
    stub = client.tickets if isinstance(client, TicketdClient) else client
    rid = request_id if request_id is not None else request_id_for_call(call_id)
    request = ticket_service_pb2.CreateTicketRequest(
        account=account_name(account),
        phone_call=ticket_pb2.PhoneCall(
            call_id=call_id,
            caller_number=caller_number,
            dialed_number=dialed_number,
            region=region,
        ),
        subject=subject,
        description=description,
        impact=policy_pb2.Impact(kind=kind, scope=scope, workaround=workaround),
        request_id=rid,
    )

    started = clock()
    attempt = 0
    while True:
        attempt += 1
        remaining = retry.total_timeout - (clock() - started)
        try:
            response = stub.CreateTicket(
                request,
                timeout=max(0.001, min(retry.attempt_timeout, remaining)),
                metadata=tuple(metadata),
            )
        except grpc.RpcError as rpc_error:
            error = from_rpc_error(rpc_error, attempts=attempt)
            delay = retry.delay_after(error, attempt + 1, rand())
            if delay is None or attempt >= retry.max_attempts:
                raise error from rpc_error
            if clock() - started + delay >= retry.total_timeout:
                raise error from rpc_error
            sleep(delay)
            continue
        return RegisteredCall(ticket=response.ticket, request_id=rid, attempts=attempt)


# --- Speaking back -----------------------------------------------------------

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class SpokenNumber:
    """A ticket number for text-to-speech, digit by digit, in groups of `group_size`.

    For 10423: `digits` `"104 23"`, `words` `"one zero four, two three"`, and
    `ssml` `'<say-as interpret-as="digits">10423</say-as>'`.
    """

    number: int
    digits: str
    words: str
    ssml: str


def spoken_ticket_number(number: int, *, group_size: int = 3) -> SpokenNumber:
    """The ticket number digit by digit ("zero", not "oh"), grouped from the left so the caller can write it down."""
    if number <= 0:
        raise ValueError(f"ticket numbers are positive, got {number}")
    if group_size < 1:
        raise ValueError("group_size must be at least 1")
    text = str(number)
    groups = [text[i : i + group_size] for i in range(0, len(text), group_size)]
    return SpokenNumber(
        number=number,
        digits=" ".join(groups),
        words=", ".join(" ".join(_DIGIT_WORDS[int(d)] for d in group) for group in groups),
        ssml=f'<say-as interpret-as="digits">{text}</say-as>',
    )


_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_in_words(n: int) -> str:
    """0..999 in words: 24 -> `twenty-four`, 120 -> `one hundred twenty`; larger numbers as digits."""
    if n < 0 or n > 999:
        return str(n)
    if n < 20:
        return _SMALL[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_SMALL[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_SMALL[hundreds]} hundred" + (f" {number_in_words(rest)}" if rest else "")


def spoken_duration(duration: timedelta) -> str:
    """A response target in words: `one hour`, `four hours`, `twenty-four hours`, `thirty minutes`."""
    minutes = int(duration.total_seconds() // 60)
    if minutes % 60 == 0 and minutes > 0:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{number_in_words(count)} {unit}{'' if count == 1 else 's'}"


_CHANNEL_WORDS = {
    "CHANNEL_WEB_FORM": "the web form",
    "CHANNEL_CHAT": "chat",
    "CHANNEL_PHONE": "phone support",
}


def spoken_channels(names: Sequence[str]) -> str:
    """`("CHANNEL_WEB_FORM", "CHANNEL_CHAT")` -> `the web form or chat`."""
    words = [_CHANNEL_WORDS.get(n, n.removeprefix("CHANNEL_").replace("_", " ").lower()) for n in names]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def refusal_prompt(error: ChannelNotInPlanError) -> str:
    """What the IVR says when the caller's plan has no phone support."""
    alternatives = spoken_channels(error.allowed_channel_names)
    text = "Phone support is not included in your plan."
    if alternatives:
        text += f" Please contact us through {alternatives}."
    return text


__all__ = [
    "NO_RETRY",
    "RegisteredCall",
    "RetryPolicy",
    "SpokenNumber",
    "number_in_words",
    "refusal_prompt",
    "register_call",
    "request_id_for_call",
    "spoken_channels",
    "spoken_duration",
    "spoken_ticket_number",
]
