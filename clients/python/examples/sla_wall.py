#!/usr/bin/env python3
"""An SLA wall in the terminal: the open tickets and their response deadlines, kept current from WatchSlaStatus.

It prints the wall once the snapshot is in, then one line per change: `+` a
ticket came onto the wall, `~` it changed, `-` it left (resolved, closed, or
out of the filter, e.g. MET when only unanswered states are watched).

When the stream ends (UNAVAILABLE SERVER_SHUTTING_DOWN, RESOURCE_EXHAUSTED
WATCH_CONSUMER_TOO_SLOW, a dropped connection, or no update for two heartbeat
intervals) it waits, then calls again with `resume_cursor` set to the cursor
in the error's metadata, else to the last cursor received: no event is missed
or shown twice. Ctrl-C prints the cursor, for `--resume-cursor`.

    export TICKETD_TOKEN=$(ticketd admin credentials issue --name sla-wall --role dashboard)
    python examples/sla_wall.py --address http://127.0.0.1:50051 --state on-track,at-risk,breached

The address defaults to $TICKETD_ADDR, then http://127.0.0.1:50051; the bearer
token (a dashboard credential is enough) comes from --token or $TICKETD_TOKEN.
A refused credential (UNAUTHENTICATED, PERMISSION_DENIED) stops the wall:
reconnecting cannot fix it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar

import grpc

from ticketd_client import DEFAULT_ADDRESS, TicketdClient
from ticketd_client.client import account_name
from ticketd_client.errors import ERROR_DOMAIN, TicketdError, from_rpc_error
from ticketd_client.support.v1 import policy_pb2, sla_watch_pb2, ticket_pb2, ticket_service_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)

OPEN = (
    ticket_pb2.TICKET_STATUS_NEW,
    ticket_pb2.TICKET_STATUS_ACKNOWLEDGED,
    ticket_pb2.TICKET_STATUS_IN_PROGRESS,
    ticket_pb2.TICKET_STATUS_WAITING_ON_CUSTOMER,
)
# A retry cannot fix these: a bad filter or cursor, SNAPSHOT_TOO_LARGE, no such RPC.
PERMANENT = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
}


class Wall:
    """The open tickets matching the request's filters, by name, from the snapshot and the events after it."""

    def __init__(self, request: ticket_service_pb2.WatchSlaStatusRequest) -> None:
        self.request = request
        self.tickets: dict[str, sla_watch_pb2.TicketSlaStatus] = {}
        self.cursor = request.resume_cursor
        self._snapshot: dict[str, sla_watch_pb2.TicketSlaStatus] = {}

    def begin(self) -> None:
        """A stream is starting: without a cursor it sends a new snapshot, so drop any that was cut short."""
        self.request.resume_cursor = self.cursor
        if not self.cursor:
            self._snapshot = {}

    def matches(self, t: sla_watch_pb2.TicketSlaStatus) -> bool:
        r = self.request
        return (
            t.status in OPEN
            and (not r.plans or t.plan in r.plans)
            and (not r.priorities or t.priority in r.priorities)
            and (not r.channels or t.channel in r.channels)
            and (not r.sla_states or t.sla_state in r.sla_states)
            and (not r.account or t.account == r.account)
        )

    def apply(self, update: ticket_service_pb2.WatchSlaStatusResponse) -> list[str]:
        """Applies one update; returns the lines to print."""
        if update.cursor:
            self.cursor = update.cursor
        kind = update.WhichOneof("update")
        if kind == "ticket":  # held back until snapshot_end: never half a snapshot on the wall
            self._snapshot[update.ticket.name] = update.ticket
        elif kind == "snapshot_end":
            self.tickets, self._snapshot = self._snapshot, {}
            by_deadline = sorted(self.tickets.values(), key=lambda t: (t.response_due_at.ToNanoseconds(), t.number))
            return [f"snapshot: {len(self.tickets)} open"] + [f"  {row(t)}" for t in by_deadline]
        elif kind == "event":
            t, event = update.event.ticket, update.event.event
            what = ticket_pb2.TicketEventKind.Name(event.kind).removeprefix("TICKET_EVENT_KIND_")
            if event.kind == ticket_pb2.TICKET_EVENT_KIND_STATUS_CHANGED:
                what += " " + ticket_pb2.TicketStatus.Name(event.to_status).removeprefix("TICKET_STATUS_")
            was_on = t.name in self.tickets
            if self.matches(t):
                self.tickets[t.name] = t
                return [f"{'~' if was_on else '+'} {what}: {row(t)} [{len(self.tickets)} open]"]
            if was_on:
                del self.tickets[t.name]
                return [f"- {what}: {row(t)} [{len(self.tickets)} open]"]
        elif kind == "heartbeat":
            return [f"heartbeat {update.heartbeat.server_time.ToJsonString()}: {len(self.tickets)} open"]
        return []


def row(t: sla_watch_pb2.TicketSlaStatus) -> str:
    due = t.response_due_at.ToDatetime(tzinfo=timezone.utc)
    if t.HasField("first_response_at"):
        left = "responded"
    else:
        seconds = int((due - datetime.now(timezone.utc)).total_seconds())
        hours, minutes = abs(seconds) // 3600, abs(seconds) % 3600 // 60
        left = f"{hours}h {minutes:02d}m {'left' if seconds >= 0 else 'overdue'}"
    return (
        f"#{t.number} {policy_pb2.Priority.Name(t.priority).removeprefix('PRIORITY_')} "
        f"{ticket_pb2.SlaState.Name(t.sla_state).removeprefix('SLA_STATE_')} "
        f"due {due:%Y-%m-%dT%H:%M:%SZ} ({left}) {t.account} {t.subject!r}"
    )


def watch(client: TicketdClient, wall: Wall, *, stale_after: float = 30.0, max_backoff: float = 10.0) -> None:
    """Streams into `wall` until interrupted, resuming after every end a retry can fix."""
    backoff = 0.25
    while True:
        wall.begin()
        call = client.tickets.WatchSlaStatus(wall.request)  # no timeout: the stream is meant to stay open
        last_update = time.monotonic()
        ended = threading.Event()
        stale = threading.Event()

        def watchdog() -> None:  # no update, not even a heartbeat, for `stale_after` s: the connection is gone
            while not ended.wait(min(stale_after, 1.0)):
                if time.monotonic() - last_update > stale_after:
                    stale.set()
                    call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves Call.cancel untyped
                    return

        threading.Thread(target=watchdog, daemon=True).start()
        try:
            for update in call:
                last_update = time.monotonic()
                backoff = 0.25
                for line in wall.apply(update):
                    print(line, flush=True)
            why = "closed"
        except grpc.RpcError as rpc_error:
            error = from_rpc_error(rpc_error)
            if error.code in PERMANENT:
                raise error from rpc_error
            # SERVER_SHUTTING_DOWN and WATCH_CONSUMER_TOO_SLOW say where to resume.
            if error.domain == ERROR_DOMAIN and error.metadata.get("resume_cursor"):
                wall.cursor = error.metadata["resume_cursor"]
            why = f"no update for {stale_after:g} s" if stale.is_set() else str(error)
        finally:
            ended.set()
            call.cancel()  # type: ignore[no-untyped-call]
        resume = f"resuming after {wall.cursor}" if wall.cursor else "starting over with a snapshot"
        print(f"stream ended ({why}); {resume} in {backoff:g} s", file=sys.stderr, flush=True)
        time.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)


def enum_list(enum: _EnumTypeWrapper[V], prefix: str, arg: str) -> list[V]:
    """`at-risk,breached` -> [SLA_STATE_AT_RISK, SLA_STATE_BREACHED]; `p1` -> PRIORITY_P1_URGENT."""
    values = []
    for item in filter(None, (part.strip() for part in arg.split(","))):
        name = f"{prefix}_{item.upper().replace('-', '_')}"
        matches = [n for n in enum.keys() if n == name or n.startswith(name + "_")]
        if not matches:
            raise SystemExit(f"unknown value {item!r} ({name})")
        values.append(enum.Value(matches[0]))
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--address", default=os.environ.get("TICKETD_ADDR", DEFAULT_ADDRESS), help="ticketd address")
    parser.add_argument("--token", default=os.environ.get("TICKETD_TOKEN"), help="bearer token (default: $TICKETD_TOKEN)")
    parser.add_argument("--plan", default="", help="free, pro, business, education, api (comma-separated)")
    parser.add_argument("--priority", default="", help="p1, p2, p3, p4")
    parser.add_argument("--channel", default="", help="web-form, chat, phone")
    parser.add_argument("--state", default="", help="on-track, at-risk, breached, met, missed")
    parser.add_argument("--account", default="", help="one account's tickets (its id)")
    parser.add_argument("--resume-cursor", default="", help="carry on after this cursor instead of starting with a snapshot")
    parser.add_argument("--stale-after", type=float, default=30.0, help="seconds without any update before reconnecting")
    args = parser.parse_args(argv)

    request = ticket_service_pb2.WatchSlaStatusRequest(
        plans=enum_list(policy_pb2.Plan, "PLAN", args.plan),
        priorities=enum_list(policy_pb2.Priority, "PRIORITY", args.priority),
        channels=enum_list(policy_pb2.Channel, "CHANNEL", args.channel),
        sla_states=enum_list(ticket_pb2.SlaState, "SLA_STATE", args.state),
        account=account_name(args.account) if args.account else "",
        resume_cursor=args.resume_cursor,
    )
    wall = Wall(request)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop on SIGTERM as on Ctrl-C
    print(f"watching SLA status on {args.address}", flush=True)
    with TicketdClient(args.address, token=args.token or None) as client:
        try:
            watch(client, wall, stale_after=args.stale_after)
        except KeyboardInterrupt:
            print(f"stopped; to carry on from here: --resume-cursor {wall.cursor}" if wall.cursor else "stopped")
        except TicketdError as error:  # the request itself, or the credential, was refused
            print(f"error: {error}", file=sys.stderr)
            if error.code == grpc.StatusCode.UNAUTHENTICATED:
                print("  set TICKETD_TOKEN (or --token) to a dashboard credential's token", file=sys.stderr)
            for violation in error.field_violations:
                print(f"  field {violation.field}: {violation.description}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
