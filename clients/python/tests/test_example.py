"""examples/ivr_call_flow.py, run as a user would, against a live ticketd."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import TicketdServer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ivr_call_flow.py"


def test_example_call_flow(ticketd: TicketdServer) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--address", ticketd.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Your ticket number is one." in out  # the first ticket on a fresh database
    assert "Its priority is urgent. We will respond within one hour." in out
    assert "Please contact us through the web form or chat." in out

    # Running it again reuses the accounts and makes the next ticket.
    again = subprocess.run(
        [sys.executable, str(EXAMPLE), "--address", ticketd.url], capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Your ticket number is two." in again.stdout


def test_example_reports_an_unreachable_server() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--address", "http://127.0.0.1:9", "--connect-timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cannot reach ticketd at http://127.0.0.1:9" in result.stderr
