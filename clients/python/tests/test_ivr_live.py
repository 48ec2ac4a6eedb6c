"""The IVR layer against a live ticketd on a fresh database (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TypedDict

import grpc
import pytest
from conftest import TicketdServer, create_account
from faults import InjectedRpcError, LoseResponses, RecordMetadata
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]

from ticketd_client import (
    ChannelNotInPlanError,
    InvalidArgumentError,
    NotFoundError,
    RequestIdReusedError,
    RetryableError,
    RetryPolicy,
    TicketdClient,
    register_call,
    request_id_for_call,
)
from ticketd_client.errors import CHANNEL_NOT_IN_PLAN, ERROR_DOMAIN, INVALID_FIELDS
from ticketd_client.ivr import NO_RETRY, refusal_prompt
from ticketd_client.support.v1 import policy_pb2, policy_service_pb2, ticket_service_pb2

US_LINE = "+18887999666"
CALLER = "+14155550123"


class CallArgs(TypedDict):
    account: str
    call_id: str
    caller_number: str
    dialed_number: str
    region: policy_pb2.Region.ValueType
    subject: str
    kind: policy_pb2.RequestKind.ValueType
    scope: policy_pb2.ImpactScope.ValueType
    workaround: policy_pb2.Workaround.ValueType


def _call(
    account: str,
    call_id: str = "ivr-call-0001",
    *,
    caller_number: str = CALLER,
    dialed_number: str = US_LINE,
    subject: str = "Cannot join any meeting",
    scope: policy_pb2.ImpactScope.ValueType = policy_pb2.IMPACT_SCOPE_SERVICE_DOWN,
    workaround: policy_pb2.Workaround.ValueType = policy_pb2.WORKAROUND_NONE,
) -> CallArgs:
    """register_call's arguments for a problem called in on the US line (default: service down, no workaround)."""
    return CallArgs(
        account=account,
        call_id=call_id,
        caller_number=caller_number,
        dialed_number=dialed_number,
        region=policy_pb2.REGION_US,
        subject=subject,
        kind=policy_pb2.REQUEST_KIND_PROBLEM,
        scope=scope,
        workaround=workaround,
    )


def _ticket_names(client: TicketdClient, account: str) -> list[str]:
    return [t.name for t in client.iter_tickets(account=account)]


def test_business_caller_gets_a_p1_phone_ticket_due_in_one_hour(client: TicketdClient, ivr_client: TicketdClient) -> None:
    create_account(client, "globex", policy_pb2.PLAN_BUSINESS)
    before = datetime.now(timezone.utc)
    call = register_call(ivr_client, **_call("globex"))
    after = datetime.now(timezone.utc)

    ticket = call.ticket
    assert call.attempts == 1
    assert call.number >= 1
    assert call.name.startswith("tickets/")
    assert ticket.account == "accounts/globex"
    assert ticket.plan == policy_pb2.PLAN_BUSINESS
    assert ticket.channel == policy_pb2.CHANNEL_PHONE
    assert ticket.WhichOneof("origin") == "phone_call"
    assert (ticket.phone_call.call_id, ticket.phone_call.caller_number, ticket.phone_call.dialed_number) == (
        "ivr-call-0001",
        CALLER,
        US_LINE,
    )
    assert ticket.request_id == call.request_id == request_id_for_call("ivr-call-0001")

    assert call.priority == policy_pb2.PRIORITY_P1_URGENT
    assert call.priority_label == "P1 urgent"
    assert ticket.priority_decision.rule_id == "service-down-no-workaround"

    # Business P1: first response within one hour of receipt, on calendar time.
    assert before - timedelta(seconds=5) <= call.received_at <= after + timedelta(seconds=5)
    assert call.response_target == timedelta(hours=1)
    assert call.response_due_at - call.received_at == timedelta(hours=1)
    policy = client.policy.GetPolicy(policy_service_pb2.GetPolicyRequest(), timeout=10).policy
    published = {(t.plan, t.priority): t.target.ToTimedelta() for t in policy.response_targets}
    assert published[(policy_pb2.PLAN_BUSINESS, policy_pb2.PRIORITY_P1_URGENT)] == call.response_target

    # The number the caller hears finds the ticket.
    by_number = client.tickets.GetTicket(ticket_service_pb2.GetTicketRequest(name=f"tickets/{call.number}"), timeout=10)
    assert by_number.ticket == ticket
    words = call.spoken_number().words
    assert words.replace(",", "").split() == [
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][int(d)] for d in str(call.number)
    ]
    assert call.confirmation_prompt() == (
        f"Your ticket number is {words}. Its priority is urgent. We will respond within one hour."
    )

    # A second call gets the next number and its own priority and deadline.
    second = register_call(
        ivr_client,
        **_call(
            "globex",
            call_id="ivr-call-0002",
            scope=policy_pb2.IMPACT_SCOPE_DEGRADED,
            workaround=policy_pb2.WORKAROUND_PARTIAL,
        ),
    )
    assert second.number > call.number
    assert second.priority == policy_pb2.PRIORITY_P2_HIGH
    assert second.response_due_at - second.received_at == timedelta(hours=4)
    assert "within four hours" in second.confirmation_prompt()
    assert _ticket_names(client, "globex") == [second.name, call.name]


def test_free_caller_is_refused_with_the_channels_they_may_use(client: TicketdClient, ivr_client: TicketdClient) -> None:
    create_account(client, "freebie", policy_pb2.PLAN_FREE)
    sleeps: list[float] = []
    with pytest.raises(ChannelNotInPlanError) as caught:
        register_call(ivr_client, sleep=sleeps.append, **_call("freebie"))

    error = caught.value
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert (error.reason, error.domain) == (CHANNEL_NOT_IN_PLAN, ERROR_DOMAIN)
    assert (error.plan, error.channel) == ("PLAN_FREE", "CHANNEL_PHONE")
    assert error.allowed_channel_names == ("CHANNEL_WEB_FORM", "CHANNEL_CHAT")
    assert error.allowed_channels == (policy_pb2.CHANNEL_WEB_FORM, policy_pb2.CHANNEL_CHAT)
    assert refusal_prompt(error) == (
        "Phone support is not included in your plan. Please contact us through the web form or chat."
    )
    # A refusal is an answer, not a fault: no retry, and nothing written.
    assert error.attempts == 1 and sleeps == []
    assert _ticket_names(client, "freebie") == []
    # The refusal agrees with what PolicyService says about the account (the IVR may ask it too).
    check = ivr_client.policy.CheckChannel(
        policy_service_pb2.CheckChannelRequest(account="accounts/freebie", channel=policy_pb2.CHANNEL_PHONE), timeout=10
    )
    assert not check.allowed
    assert tuple(check.allowed_channels) == error.allowed_channels


def _storage_unavailable_with_retry_info() -> InjectedRpcError:
    """UNAVAILABLE as ticketd sends it when its database is unreachable: ErrorInfo plus RetryInfo of 1 s."""
    message = "storage is temporarily unavailable; retry with backoff"
    info, retry = any_pb2.Any(), any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason="STORAGE_UNAVAILABLE", domain=ERROR_DOMAIN))
    retry.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1)))
    status = status_pb2.Status(code=grpc.StatusCode.UNAVAILABLE.value[0], message=message, details=[info, retry])
    return InjectedRpcError(grpc.StatusCode.UNAVAILABLE, message, status)


@pytest.mark.parametrize(
    ("make_error", "expected_sleep"),
    [
        pytest.param(lambda: InjectedRpcError(grpc.StatusCode.UNAVAILABLE, "connection reset"), 0.2, id="unavailable"),
        pytest.param(
            lambda: InjectedRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"), 0.2, id="deadline"
        ),
        # The server's RetryInfo hint (1 s) wins over the shorter first backoff.
        pytest.param(_storage_unavailable_with_retry_info, 1.0, id="storage-unavailable-retry-info"),
    ],
)
def test_lost_response_is_retried_with_the_same_request_id_and_makes_one_ticket(
    ticketd: TicketdServer, client: TicketdClient, make_error: Callable[[], grpc.RpcError], expected_sleep: float
) -> None:
    create_account(client, "initech", policy_pb2.PLAN_BUSINESS)
    fault = LoseResponses(make_error, times=1)
    with TicketdClient(ticketd.url, token=ticketd.tokens["ivr"], interceptors=[fault]) as ivr:
        sleeps: list[float] = []
        call = register_call(ivr, sleep=sleeps.append, rand=lambda: 0.5, **_call("initech"))

        assert fault.delivered == 1, "the first attempt must have reached the server and created the ticket"
        assert call.attempts == 2
        assert len(fault.requests) == 2
        assert fault.requests[0] == fault.requests[1], "a retry must resend the same request"
        assert fault.requests[0].request_id == call.request_id != ""
        assert sleeps == [pytest.approx(expected_sleep)]
        # Exactly one ticket: the retry got back the ticket the lost attempt made.
        assert _ticket_names(client, "initech") == [call.name]


def test_control_a_retry_under_a_new_request_id_would_duplicate(ticketd: TicketdServer, client: TicketdClient) -> None:
    """Shows the fault above really creates a ticket before failing: without the
    same request_id, the retry makes a second one. (If this stopped holding, the
    no-duplicate test would prove nothing.)"""
    create_account(client, "hooli", policy_pb2.PLAN_BUSINESS)
    fault = LoseResponses(times=1)
    with TicketdClient(ticketd.url, token=ticketd.tokens["ivr"], interceptors=[fault]) as ivr:
        with pytest.raises(RetryableError) as caught:
            register_call(ivr, request_id="attempt-1", retry=NO_RETRY, **_call("hooli"))
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE and caught.value.attempts == 1
        register_call(ivr, request_id="attempt-2", retry=NO_RETRY, **_call("hooli"))
        assert len(_ticket_names(client, "hooli")) == 2


def test_retries_are_bounded(ticketd: TicketdServer, client: TicketdClient) -> None:
    create_account(client, "vandelay", policy_pb2.PLAN_BUSINESS)
    fault = LoseResponses(times=100, deliver=False)
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.1, multiplier=2.0, max_backoff=0.15, jitter=0.0)
    with TicketdClient(ticketd.url, token=ticketd.tokens["ivr"], interceptors=[fault]) as ivr:
        sleeps: list[float] = []
        with pytest.raises(RetryableError) as caught:
            register_call(ivr, retry=policy, sleep=sleeps.append, **_call("vandelay"))
        assert caught.value.attempts == 3
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        assert len(fault.requests) == 3
        assert sleeps == [pytest.approx(0.1), pytest.approx(0.15)]
        assert _ticket_names(client, "vandelay") == []


def test_registering_the_same_call_again_returns_the_same_ticket(client: TicketdClient, ivr_client: TicketdClient) -> None:
    """E.g. the IVR restarted mid-call: the request_id comes from the call id."""
    create_account(client, "acme", policy_pb2.PLAN_BUSINESS)
    first = register_call(ivr_client, **_call("acme", call_id="ivr-restart-7"))
    again = register_call(ivr_client, **_call("acme", call_id="ivr-restart-7"))
    assert again.ticket == first.ticket
    assert _ticket_names(client, "acme") == [first.name]
    # The same call id with different content is refused, not merged.
    with pytest.raises(RequestIdReusedError) as caught:
        register_call(ivr_client, **_call("acme", call_id="ivr-restart-7", subject="Something else"))
    assert caught.value.code == grpc.StatusCode.ALREADY_EXISTS
    assert caught.value.request_id == first.request_id


def test_invalid_call_is_refused_naming_each_bad_field(client: TicketdClient, ivr_client: TicketdClient) -> None:
    create_account(client, "umbrella", policy_pb2.PLAN_BUSINESS)
    sleeps: list[float] = []
    with pytest.raises(InvalidArgumentError) as caught:
        register_call(
            ivr_client,
            sleep=sleeps.append,
            **_call(
                "umbrella",
                caller_number="415-555-0123",  # not E.164
                dialed_number="+15555550100",  # not a support line
                subject="",  # required
            ),
        )
    error = caught.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == INVALID_FIELDS
    assert {"subject", "phone_call.caller_number", "phone_call.dialed_number"} <= set(error.fields)
    assert all(v.description for v in error.field_violations)
    assert error.attempts == 1 and sleeps == []
    assert _ticket_names(client, "umbrella") == []


def test_unknown_account_is_not_found(ivr_client: TicketdClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        register_call(ivr_client, **_call("nobody-here"))
    assert caught.value.resource_name == "accounts/nobody-here"


def test_token_and_metadata_go_on_every_call(ticketd: TicketdServer) -> None:
    recorder = RecordMetadata()
    admin, ivr = ticketd.admin_token, ticketd.tokens["ivr"]
    with TicketdClient(
        ticketd.url, token=admin, metadata=[("x-ivr-node", "ivr-7")], interceptors=[recorder]
    ) as client:
        create_account(client, "wayne", policy_pb2.PLAN_BUSINESS)
        call = register_call(client, metadata=[("authorization", f"Bearer {ivr}")], **_call("wayne"))
        assert [t.name for t in client.iter_tickets(account="wayne")] == [call.name]
    create_md, register_md = (dict(m) for m in recorder.metadata[:2])
    assert create_md["authorization"] == f"Bearer {admin}"
    assert create_md["x-ivr-node"] == "ivr-7"
    assert register_md["authorization"] == f"Bearer {ivr}"  # a per-call value wins
    assert [k for k, _ in recorder.metadata[1]].count("authorization") == 1
