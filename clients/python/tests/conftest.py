"""Fixtures that run the real ticketd binary on a fresh database for each test.

- The binary: `$TICKETD_BIN`, else `<repo>/target/release/ticketd`, else
  `<repo>/target/debug/ticketd`. Tests fail (never skip) when there is none.
- The database: a temporary SQLite file; with `TICKETD_TEST_DATABASE=postgres`,
  a new PostgreSQL database `ticketd_pytest_<random>` on
  `$TICKETD_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`),
  dropped afterwards with `psql`.
- Credentials: before the server starts, `ticketd admin credentials issue`
  runs on the same database (it creates and migrates it) and issues the tokens
  in `CREDENTIALS`: `admin` for setting up and checking, `ivr` (intake, channel
  phone: what the IVR holds in production) and `dashboard` (the SLA wall). The
  embedded SQLite store serves one process at a time, so they are issued before
  `serve`, not while it runs. `TicketdServer.tokens` has them by name.
- The server listens on a free loopback port; the fixture waits until it
  answers, and stops it (SIGTERM, then SIGKILL) after the test. Its log is
  printed when a test fails. `restart_ticketd` stops it and serves the same
  database at the same address again. `@pytest.mark.ticketd_args(...)` adds
  flags to `serve` for one test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from ticketd_client import TicketdClient
from ticketd_client.client import account_name
from ticketd_client.support.v1 import account_pb2, policy_pb2, ticket_service_pb2, ticket_service_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 60.0

CREDENTIALS: dict[str, tuple[str, str]] = {
    # name: (role, channels)
    "admin": ("admin", ""),
    "ivr": ("intake", "phone"),
    "dashboard": ("dashboard", ""),
}
"""The credentials issued for every test's server, by the name they are issued to."""


def ticketd_binary() -> Path:
    configured = os.environ.get("TICKETD_BIN")
    if configured:
        path = Path(configured)
        if not path.is_file():
            pytest.fail(f"TICKETD_BIN={configured} is not a file", pytrace=False)
        return path
    for candidate in (REPO_ROOT / "target" / "release" / "ticketd", REPO_ROOT / "target" / "debug" / "ticketd"):
        if candidate.is_file():
            return candidate
    pytest.fail(
        f"no ticketd binary under {REPO_ROOT}/target/{{release,debug}}: run "
        f"`cargo build --release --bin ticketd` in {REPO_ROOT}, or set TICKETD_BIN",
        pytrace=False,
    )


@dataclass
class TicketdServer:
    """A running ticketd: `url` is what TicketdClient takes (`http://127.0.0.1:PORT`)."""

    url: str
    target: str
    database_url: str
    log_path: Path
    process: subprocess.Popen[bytes]
    tokens: dict[str, str]
    args: tuple[str, ...] = ()

    @property
    def admin_token(self) -> str:
        return self.tokens["admin"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def issue_credentials(binary: Path, database_url: str, workdir: Path) -> dict[str, str]:
    """Issues `CREDENTIALS` with `ticketd admin credentials issue` on `database_url`; returns the tokens by name.

    The command creates and migrates the database if needed. Run it while no
    server serves an SQLite database: that store takes one process at a time.
    """
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    tokens: dict[str, str] = {}
    for name, (role, channels) in CREDENTIALS.items():
        command = [str(binary), "admin", "credentials", "issue", "--database", database_url, "--name", name, "--role", role]
        if channels:
            command += ["--channels", channels]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=workdir)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}", pytrace=False)
        token = result.stdout.strip()
        if not token or "\n" in token:
            pytest.fail(f"{' '.join(command)} printed {result.stdout!r}, not one token", pytrace=False)
        tokens[name] = token
    return tokens


def _answers(target: str, token: str) -> bool:
    """True once the server answers an RPC that reads the database (the credential lookup, then the accounts)."""
    with grpc.insecure_channel(target) as channel:
        stub = ticket_service_pb2_grpc.TicketServiceStub(channel)
        try:
            stub.ListAccounts(
                ticket_service_pb2.ListAccountsRequest(page_size=1),
                timeout=1.0,
                metadata=(("authorization", f"Bearer {token}"),),
            )
            return True
        except grpc.RpcError:
            return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _start(
    binary: Path,
    database_url: str,
    workdir: Path,
    tokens: dict[str, str],
    *,
    args: tuple[str, ...] = (),
    port: int | None = None,
    log_path: Path | None = None,
) -> TicketdServer:
    """Serves `database_url` on a free port, or on `port`; logs to a new file, or appends to `log_path`.

    `tokens` are the credentials issued on the database; the admin one tells when the server answers.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TICKETD_LISTEN")}
    env.setdefault("RUST_LOG", "info")
    env.setdefault("NO_COLOR", "1")  # plain text in the log file
    last_log = ""
    for attempt in range(1 if port else 3):  # a port taken between probing and binding: try another
        target = f"127.0.0.1:{port or _free_port()}"
        log = log_path or workdir / f"ticketd-{attempt}.log"
        with open(log, "ab" if log_path else "wb") as log_file:
            process = subprocess.Popen(
                [str(binary), "serve", "--listen", target, "--database", database_url, *args],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=workdir,
            )
        server = TicketdServer(f"http://{target}", target, database_url, log, process, tokens, args)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(target, tokens["admin"]):
                return server
            time.sleep(0.05)
        _stop(process)
        last_log = server.log()
        if "in use" not in last_log.lower():
            break
    pytest.fail(f"ticketd did not start on {database_url}:\n{last_log}", pytrace=False)


def restart_ticketd(server: TicketdServer) -> None:
    """Stops `server` (SIGTERM: open streams end as on any shutdown) and serves its database again at the same address."""
    _stop(server.process)
    port = int(server.target.rsplit(":", 1)[1])
    again = _start(
        ticketd_binary(),
        server.database_url,
        server.log_path.parent,
        server.tokens,
        args=server.args,
        port=port,
        log_path=server.log_path,
    )
    server.process = again.process


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    kind = os.environ.get("TICKETD_TEST_DATABASE", "sqlite").strip().lower()
    if kind == "sqlite":
        yield f"sqlite://{tmp_path / 'ticketd.db'}"
    elif kind in ("postgres", "postgresql"):
        server = os.environ.get("TICKETD_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
        name = f"ticketd_pytest_{secrets.token_hex(6)}"
        try:
            yield f"{server}/{name}"  # ticketd creates it
        finally:
            _drop_postgres(server, name)
    else:
        pytest.fail(f"TICKETD_TEST_DATABASE must be sqlite or postgres, not {kind!r}", pytrace=False)


def _drop_postgres(server: str, name: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        warnings.warn(f"psql not found: PostgreSQL database {name} was left behind", stacklevel=1)
        return
    result = subprocess.run(
        [psql, f"{server}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        warnings.warn(f"could not drop {name}: {result.stderr.strip()}", stacklevel=1)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def ticketd(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[TicketdServer]:
    """A ticketd serving a fresh database with `CREDENTIALS` issued on it, stopped after the test."""
    binary = ticketd_binary()
    tokens = issue_credentials(binary, database_url, tmp_path)
    marker = request.node.get_closest_marker("ticketd_args")
    args = tuple(str(a) for a in marker.args) if marker else ()
    server = _start(binary, database_url, tmp_path, tokens, args=args)
    try:
        yield server
    finally:
        _stop(server.process)
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            print(f"--- ticketd log ({server.database_url}) ---\n{server.log()}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ticketd_args(*flags): extra flags for this test's `ticketd serve`")


@pytest.fixture
def client(ticketd: TicketdServer) -> Iterator[TicketdClient]:
    """A client holding the administrator's credential: for setting up and checking."""
    with TicketdClient(ticketd.url, token=ticketd.admin_token) as c:
        yield c


@pytest.fixture
def ivr_client(ticketd: TicketdServer) -> Iterator[TicketdClient]:
    """A client holding the IVR's credential: intake, phone tickets only."""
    with TicketdClient(ticketd.url, token=ticketd.tokens["ivr"]) as c:
        yield c


def create_account(client: TicketdClient, account_id: str, plan: policy_pb2.Plan.ValueType) -> account_pb2.Account:
    response = client.tickets.CreateAccount(
        ticket_service_pb2.CreateAccountRequest(
            account_id=account_id,
            account=account_pb2.Account(display_name=f"{account_id} Ltd", plan=plan),
        ),
        timeout=10,
    )
    assert response.account.name == account_name(account_id)
    return response.account
