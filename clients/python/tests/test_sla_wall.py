"""examples/sla_wall.py (WatchSlaStatus) against a live ticketd, through a server restart."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from conftest import TicketdServer, create_account, restart_ticketd

from ticketd_client import TicketdClient
from ticketd_client.support.v1 import policy_pb2, ticket_pb2, ticket_service_pb2

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sla_wall.py"


class Output:
    """The lines a process prints (stdout and stderr), collected by a thread as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._process = process
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = 20.0) -> str:
        """The first line matching `pattern`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self._process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def close(self) -> None:
        self._reader.join(timeout=10)


def _chat_ticket(client: TicketdClient, subject: str, account: str = "wall") -> ticket_pb2.Ticket:
    """A Pro chat ticket: problem, degraded, no workaround -> P2 High. Waits for the server if it is restarting."""
    return client.tickets.CreateTicket(
        ticket_service_pb2.CreateTicketRequest(
            account=f"accounts/{account}",
            chat=ticket_pb2.ChatSession(chat_session_id=f"chat-{uuid.uuid4()}", first_message=subject),
            subject=subject,
            impact=policy_pb2.Impact(
                kind=policy_pb2.REQUEST_KIND_PROBLEM,
                scope=policy_pb2.IMPACT_SCOPE_DEGRADED,
                workaround=policy_pb2.WORKAROUND_NONE,
            ),
        ),
        timeout=10,
        wait_for_ready=True,
    ).ticket


def _env(token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TICKETD_ADDR"}
    env["TICKETD_TOKEN"] = token
    return env


def test_sla_wall_snapshot_live_events_and_resume_after_a_restart(ticketd: TicketdServer, client: TicketdClient) -> None:
    create_account(client, "wall", policy_pb2.PLAN_PRO)
    create_account(client, "elsewhere", policy_pb2.PLAN_PRO)  # not on the wall
    first = _chat_ticket(client, "Screen sharing freezes")

    # The wall holds a dashboard credential (read and watch, nothing else), from TICKETD_TOKEN.
    process = subprocess.Popen(
        [sys.executable, "-u", str(EXAMPLE), "--address", ticketd.url, "--account", "wall", "--state", "on-track,at-risk,breached"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(ticketd.tokens["dashboard"]),
    )
    out = Output(process)
    try:
        # The snapshot: the ticket opened before the wall started.
        out.expect(r"^snapshot: 1 open$")
        out.expect(rf"^  #{first.number} P2_HIGH ON_TRACK due \S+Z \(\d+h \d+m left\) accounts/wall 'Screen sharing freezes'$")

        # A live event.
        second = _chat_ticket(client, "Audio drops")
        out.expect(rf"^\+ RECEIVED: #{second.number} P2_HIGH ON_TRACK .* 'Audio drops' \[2 open\]$")

        # Another account's ticket: the server reads past its event, which this wall is not sent.
        not_sent = _chat_ticket(client, "Not on the wall", account="elsewhere")
        time.sleep(0.3)  # the server reads its own writes at once; leave it that moment

        # The server restarts: the stream ends with SERVER_SHUTTING_DOWN and its cursor, and the wall resumes from it.
        restart_ticketd(ticketd)
        ended = out.expect(r"^stream ended \(UNAVAILABLE: .* \[SERVER_SHUTTING_DOWN\]\); resuming after v1\.\S+ in [\d.]+ s$")
        resumed_from = ended.split("resuming after ")[1].split(" ")[0]
        third = _chat_ticket(client, "Video lags")
        out.expect(rf"^\+ RECEIVED: #{third.number} .* 'Video lags' \[3 open\]$")

        # That cursor is the server's (the error's metadata), past the event the wall was not sent, not the
        # last one the wall received: a stream of the other account resumed from it starts after that event.
        later = _chat_ticket(client, "Also not on the wall", account="elsewhere")
        other = client.tickets.WatchSlaStatus(
            ticket_service_pb2.WatchSlaStatusRequest(account="accounts/elsewhere", resume_cursor=resumed_from), timeout=10
        )
        try:
            update = next(iter(other))
            assert update.event.ticket.name == later.name, (
                f"resumed from {resumed_from}, the first event is {update.event.ticket.subject!r}, "
                f"not {later.subject!r}: {not_sent.subject!r} should have been behind the cursor"
            )
        finally:
            other.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves Call.cancel untyped

        # A first response makes the first ticket MET, a state this wall does not show.
        client.tickets.AcknowledgeTicket(
            ticket_service_pb2.AcknowledgeTicketRequest(
                name=first.name, responder="agent", method=ticket_pb2.NOTIFICATION_METHOD_EMAIL
            ),
            timeout=10,
        )
        out.expect(rf"^- FIRST_RESPONSE: #{first.number} P2_HIGH MET .*\(responded\).* \[2 open\]$")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            returncode = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        out.close()

    output = "\n".join(out.lines)
    assert returncode == 0, output
    assert re.search(r"^stopped; to carry on from here: --resume-cursor v1\.\S+$", output, re.M), output
    # Resumed, not started over: one snapshot, and each live ticket came onto the wall once.
    assert len(re.findall(r"^snapshot:", output, re.M)) == 1, output
    added = re.findall(r"^\+ RECEIVED: #(\d+) ", output, re.M)
    assert added == [str(second.number), str(third.number)], output


def test_sla_wall_stops_on_a_credential_that_may_not_watch(ticketd: TicketdServer) -> None:
    """The IVR's credential (intake) lacks sla.watch: the wall says so and exits instead of reconnecting forever."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--address", ticketd.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(ticketd.tokens["ivr"]),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: PERMISSION_DENIED: this credential lacks scope sla.watch [MISSING_SCOPE]" in result.stderr
    assert "stream ended" not in result.stderr
