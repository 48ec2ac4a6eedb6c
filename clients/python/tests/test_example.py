"""examples/ivr_call_flow.py, run as a user would, against a live ticketd."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import TicketdServer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ivr_call_flow.py"


def _run(*args: str, token: str | None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs the example with TICKETD_TOKEN set to `token` (unset for None), as a user's shell would."""
    env = {k: v for k, v in os.environ.items() if k not in ("TICKETD_TOKEN", "TICKETD_ADDR")}
    if token is not None:
        env["TICKETD_TOKEN"] = token
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_example_call_flow(ticketd: TicketdServer) -> None:
    # An administrator's token: the example creates its demo accounts, then takes the calls.
    result = _run("--address", ticketd.url, token=ticketd.admin_token)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Your ticket number is one." in out  # the first ticket on a fresh database
    assert "Its priority is urgent. We will respond within one hour." in out
    assert "Please contact us through the web form or chat." in out

    # Again with the IVR's own credential (intake, phone): it may not create accounts, but they exist,
    # and the calls go through. The example reuses the accounts and makes the next ticket.
    again = _run("--address", ticketd.url, token=ticketd.tokens["ivr"])
    assert again.returncode == 0, again.stdout + again.stderr
    assert "this credential may not create accounts (scope admin); assuming it exists" in again.stdout
    assert "Your ticket number is two." in again.stdout


def test_example_without_a_token_says_how_to_get_one(ticketd: TicketdServer) -> None:
    result = _run("--address", ticketd.url, token=None)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: UNAUTHENTICATED: " in result.stderr
    assert "set TICKETD_TOKEN" in result.stderr


def test_example_reports_an_unreachable_server() -> None:
    result = _run("--address", "http://127.0.0.1:9", "--connect-timeout", "1", token=None, timeout=60)
    assert result.returncode != 0
    assert "cannot reach ticketd at http://127.0.0.1:9" in result.stderr
