"""Credentials against a live ticketd: no token, the wrong scope, the rate limit (see conftest.py)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import grpc
import pytest
from conftest import TicketdServer, create_account

from ticketd_client import (
    PermissionDeniedError,
    RateLimitedError,
    RegisteredCall,
    TicketdClient,
    UnauthenticatedError,
    register_call,
)
from ticketd_client.errors import ERROR_DOMAIN, MISSING_SCOPE, RATE_LIMITED, UNAUTHENTICATED, from_rpc_error
from ticketd_client.ivr import RetryPolicy
from ticketd_client.support.v1 import policy_pb2, policy_service_pb2, ticket_pb2, ticket_service_pb2

US_LINE = "+18887999666"


def _register(client: TicketdClient, account: str, **kwargs: Any) -> RegisteredCall:
    """Registers a new phone call (service down, no workaround) for `account`."""
    return register_call(
        client,
        account=account,
        call_id=f"ivr-{uuid.uuid4()}",
        caller_number="+14155550123",
        dialed_number=US_LINE,
        region=policy_pb2.REGION_US,
        subject="Cannot join any meeting",
        kind=policy_pb2.REQUEST_KIND_PROBLEM,
        scope=policy_pb2.IMPACT_SCOPE_SERVICE_DOWN,
        workaround=policy_pb2.WORKAROUND_NONE,
        **kwargs,
    )


def test_a_call_without_a_valid_token_is_unauthenticated(ticketd: TicketdServer, client: TicketdClient) -> None:
    create_account(client, "globex", policy_pb2.PLAN_BUSINESS)
    _, admin_id, _ = ticketd.admin_token.split("_")
    wrong_secret = f"tkd_{admin_id}_{'0' * 64}"  # a real credential's id with another secret
    for token in (None, "not-a-ticketd-token", wrong_secret):
        with TicketdClient(ticketd.url, token=token) as anonymous:
            with pytest.raises(grpc.RpcError) as raised:
                anonymous.policy.GetPolicy(policy_service_pb2.GetPolicyRequest(), timeout=10)
            error = from_rpc_error(raised.value)
            assert isinstance(error, UnauthenticatedError), f"token {token!r}: {error!r}"
            assert error.code == grpc.StatusCode.UNAUTHENTICATED
            assert (error.reason, error.domain) == (UNAUTHENTICATED, ERROR_DOMAIN)

            # register_call does not retry it (no credential appears by waiting) and writes nothing.
            sleeps: list[float] = []
            with pytest.raises(UnauthenticatedError) as refused:
                _register(anonymous, "globex", sleep=sleeps.append)
            assert refused.value.attempts == 1 and sleeps == []
    assert list(client.iter_tickets(account="globex")) == []


def test_the_ivr_credential_may_create_phone_tickets_only(client: TicketdClient, ivr_client: TicketdClient) -> None:
    """The IVR holds an intake credential for channel phone: a chat ticket is refused, naming scope and channel."""
    create_account(client, "initech", policy_pb2.PLAN_BUSINESS)
    with pytest.raises(grpc.RpcError) as raised:
        ivr_client.tickets.CreateTicket(
            ticket_service_pb2.CreateTicketRequest(
                account="accounts/initech",
                chat=ticket_pb2.ChatSession(chat_session_id="chat-1", first_message="Screen sharing freezes"),
                subject="Screen sharing freezes",
                impact=policy_pb2.Impact(
                    kind=policy_pb2.REQUEST_KIND_PROBLEM,
                    scope=policy_pb2.IMPACT_SCOPE_DEGRADED,
                    workaround=policy_pb2.WORKAROUND_NONE,
                ),
            ),
            timeout=10,
        )
    error = from_rpc_error(raised.value)
    assert isinstance(error, PermissionDeniedError), repr(error)
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert (error.reason, error.domain) == (MISSING_SCOPE, ERROR_DOMAIN)
    assert (error.scope, error.channel) == ("tickets.create", "CHANNEL_CHAT")
    assert list(client.iter_tickets(account="initech")) == [], "nothing was written"

    # Nor may it read tickets back (intake systems only submit)...
    with pytest.raises(grpc.RpcError) as read:
        list(ivr_client.iter_tickets(account="initech"))
    denied = from_rpc_error(read.value)
    assert isinstance(denied, PermissionDeniedError)
    assert (denied.scope, denied.channel) == ("tickets.read", "")
    # ...but the phone ticket, its job, goes through.
    call = _register(ivr_client, "initech")
    assert [t.name for t in client.iter_tickets(account="initech")] == [call.name]


@pytest.mark.ticketd_args("--rate-limit-rps", "1", "--rate-limit-burst", "3")
def test_rate_limited_carries_retry_after_and_register_call_waits_for_it(
    ticketd: TicketdServer, client: TicketdClient, ivr_client: TicketdClient
) -> None:
    create_account(client, "hooli", policy_pb2.PLAN_BUSINESS)
    # One call a second, three at once: the IVR's fourth quick call is refused (each credential has its own limit).
    refused: RateLimitedError | None = None
    for _ in range(10):
        try:
            ivr_client.policy.GetPolicy(policy_service_pb2.GetPolicyRequest(), timeout=10)
        except grpc.RpcError as rpc_error:
            error = from_rpc_error(rpc_error)
            assert isinstance(error, RateLimitedError), repr(error)
            refused = error
            break
    assert refused is not None, "ten calls at once were never rate limited"
    assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (refused.reason, refused.domain) == (RATE_LIMITED, ERROR_DOMAIN)
    assert refused.retry_after == 1.0, "the retry-after metadata: whole seconds, rounded up"
    assert refused.retry_delay is not None and 0 < refused.retry_delay <= 1.0, "RetryInfo: the exact wait"
    assert refused.retryable

    # register_call on the spent credential: refused, waits retry-after (more than its own 0.2 s backoff), then succeeds.
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    call = _register(ivr_client, "hooli", sleep=sleep, rand=lambda: 0.5)
    assert call.attempts == 2
    assert sleeps == [pytest.approx(1.0)]
    assert [t.name for t in client.iter_tickets(account="hooli")] == [call.name]

    # With retry_rate_limited=False the refusal comes straight back, with its retry_after.
    with pytest.raises(RateLimitedError) as again:
        for _ in range(5):  # the bucket is (nearly) empty: one of these is refused
            _register(ivr_client, "hooli", retry=RetryPolicy(retry_rate_limited=False), sleep=sleep)
    assert again.value.retry_after == 1.0 and again.value.attempts == 1
    assert len(sleeps) == 1, "no wait before giving up"
