#!/usr/bin/env python3
"""Simulates two calls to the US support line, end to end against a running ticketd.

1. A Business customer reports that the service is down: the IVR registers
   the call (idempotent, retried on a flaky line) and reads the ticket number,
   priority and response time back.
2. A Free customer calls: the plan has no phone support, so the IVR tells them
   which channels they may use instead.

The two demo accounts are created when missing, which takes an admin
credential; the calls themselves need only what the IVR holds in production,
an intake credential for channel phone. Run:

    export TICKETD_TOKEN=$(ticketd admin credentials issue --name demo-admin --role admin)
    python examples/ivr_call_flow.py --address http://127.0.0.1:50051

The address defaults to $TICKETD_ADDR, then http://127.0.0.1:50051; the
bearer token comes from --token or $TICKETD_TOKEN.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid

import grpc

from ticketd_client import (
    DEFAULT_ADDRESS,
    ChannelNotInPlanError,
    PermissionDeniedError,
    TicketdClient,
    TicketdError,
    UnauthenticatedError,
    register_call,
)
from ticketd_client.errors import AlreadyExistsError, from_rpc_error
from ticketd_client.ivr import refusal_prompt
from ticketd_client.support.v1 import account_pb2, policy_pb2, ticket_service_pb2

US_SUPPORT_LINE = "+18887999666"

# What the IVR's caller lookup would return: caller number -> (account id, display name, plan).
DIRECTORY: dict[str, tuple[str, str, policy_pb2.Plan.ValueType]] = {
    "+14155550123": ("globex-demo", "Globex Corporation", policy_pb2.PLAN_BUSINESS),
    "+14155550199": ("freebie-demo", "Free Co", policy_pb2.PLAN_FREE),
}


def say(text: str) -> None:
    print(f"  IVR:    {text}")


def ensure_account(client: TicketdClient, account_id: str, display_name: str, plan: policy_pb2.Plan.ValueType) -> None:
    try:
        client.tickets.CreateAccount(
            ticket_service_pb2.CreateAccountRequest(
                account_id=account_id, account=account_pb2.Account(display_name=display_name, plan=plan)
            ),
            timeout=10,
        )
        print(f"created accounts/{account_id} on {policy_pb2.Plan.Name(plan)}")
    except grpc.RpcError as rpc_error:
        error = from_rpc_error(rpc_error)
        if isinstance(error, PermissionDeniedError):
            # An IVR's own credential (intake, phone) may not create accounts: use them as they are.
            print(f"accounts/{account_id}: this credential may not create accounts (scope {error.scope}); assuming it exists")
        elif not isinstance(error, AlreadyExistsError):
            raise error from rpc_error


def take_call(client: TicketdClient, caller_number: str) -> None:
    account_id, display_name, _ = DIRECTORY[caller_number]
    call_id = f"ivr-demo-{uuid.uuid4().hex[:12]}"
    print(f"\n--- call {call_id} from {caller_number} ({display_name}) to {US_SUPPORT_LINE}")
    say("Welcome to support. If the service is down for you, press 1.")
    print("  caller: presses 1, then 'No, there is no workaround.'")
    try:
        registered = register_call(
            client,
            account=account_id,
            call_id=call_id,
            caller_number=caller_number,
            dialed_number=US_SUPPORT_LINE,
            region=policy_pb2.REGION_US,
            subject="Service down, reported by phone",
            description="Caller pressed 1 (service down) and said there is no workaround.",
            kind=policy_pb2.REQUEST_KIND_PROBLEM,
            scope=policy_pb2.IMPACT_SCOPE_SERVICE_DOWN,
            workaround=policy_pb2.WORKAROUND_NONE,
        )
    except ChannelNotInPlanError as refused:
        say(refusal_prompt(refused))
        print(f"  (ticketd: {refused}; allowed: {', '.join(refused.allowed_channel_names)})")
        return
    say(registered.confirmation_prompt())
    say(f"Again, your ticket number is {registered.spoken_number().words}. Goodbye.")
    print(
        f"  (ticket #{registered.number} {registered.name}, {registered.priority_label}, "
        f"rule {registered.ticket.priority_decision.rule_id}, "
        f"due {registered.response_due_at:%Y-%m-%d %H:%M:%S} UTC, attempts {registered.attempts})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--address",
        default=os.environ.get("TICKETD_ADDR", DEFAULT_ADDRESS),
        help="ticketd address: http://host:port, https://host:port or host:port (default: $TICKETD_ADDR or %(default)s)",
    )
    parser.add_argument("--token", default=os.environ.get("TICKETD_TOKEN"), help="bearer token (default: $TICKETD_TOKEN)")
    parser.add_argument("--connect-timeout", type=float, default=10.0, help="seconds to wait for the server")
    args = parser.parse_args(argv)

    with TicketdClient(args.address, token=args.token or None) as client:
        try:
            client.wait_until_ready(timeout=args.connect_timeout)
        except grpc.FutureTimeoutError:
            print(f"error: cannot reach ticketd at {args.address} (waited {args.connect_timeout:g} s)", file=sys.stderr)
            return 2
        try:
            for account_id, display_name, plan in DIRECTORY.values():
                ensure_account(client, account_id, display_name, plan)
            for caller_number in DIRECTORY:
                take_call(client, caller_number)
        except TicketdError as error:
            print(f"error: {error}", file=sys.stderr)
            if isinstance(error, UnauthenticatedError):
                print(
                    "  ticketd needs a token: set TICKETD_TOKEN (or --token) to one issued by "
                    "`ticketd admin credentials issue`",
                    file=sys.stderr,
                )
            for violation in error.field_violations:
                print(f"  field {violation.field}: {violation.description}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
