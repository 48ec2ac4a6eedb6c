"""A connection to ticketd: one gRPC channel with both service stubs.

Addresses are written as ticketctl writes them: `http://host:port` (plaintext,
the default `http://127.0.0.1:50051`), `https://host:port` (TLS with the system
roots), or a bare `host:port` (plaintext unless `credentials` are given).

Metadata given here (and `authorization: Bearer <token>` when `token` is set)
is sent on every call, by a client interceptor; metadata passed to one call
wins over a default with the same key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union

import grpc

from ticketd_client.support.v1 import (
    policy_pb2,
    policy_service_pb2_grpc,
    ticket_pb2,
    ticket_service_pb2,
    ticket_service_pb2_grpc,
)

DEFAULT_ADDRESS = "http://127.0.0.1:50051"

Metadata = Sequence[tuple[str, str]]
"""gRPC call metadata: (key, value) pairs with lower-case keys."""

if TYPE_CHECKING:
    # grpc-stubs makes the interceptor classes generic; at run time they are not.
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.UnaryStreamClientInterceptor[Any, Any]
    ClientInterceptor = Union[
        grpc.UnaryUnaryClientInterceptor[Any, Any],
        grpc.UnaryStreamClientInterceptor[Any, Any],
        grpc.StreamUnaryClientInterceptor[Any, Any],
        grpc.StreamStreamClientInterceptor[Any, Any],
    ]
else:
    _UnaryUnary = grpc.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.UnaryStreamClientInterceptor
    ClientInterceptor = Union[
        grpc.UnaryUnaryClientInterceptor,
        grpc.UnaryStreamClientInterceptor,
        grpc.StreamUnaryClientInterceptor,
        grpc.StreamStreamClientInterceptor,
    ]


def parse_address(address: str) -> tuple[str, bool]:
    """Split an address into a gRPC target and whether it asks for TLS.

    >>> parse_address("http://127.0.0.1:50051")
    ('127.0.0.1:50051', False)
    >>> parse_address("https://ticketd.example.com:443")
    ('ticketd.example.com:443', True)
    >>> parse_address("127.0.0.1:50051")
    ('127.0.0.1:50051', False)
    """
    address = address.strip()
    for scheme, tls in (("http://", False), ("https://", True)):
        if address.startswith(scheme):
            return address[len(scheme) :].rstrip("/"), tls
    if "://" in address:
        raise ValueError(f"unsupported address {address!r}: use http://host:port, https://host:port or host:port")
    return address, False


def account_name(account: str) -> str:
    """`acme` or `accounts/acme` -> `accounts/acme`."""
    return account if account.startswith("accounts/") else f"accounts/{account}"


class _CallDetails(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: tuple[tuple[str, str | bytes], ...] | None,
        credentials: grpc.CallCredentials | None,
        wait_for_ready: bool | None,
        compression: grpc.Compression | None,
    ) -> None:
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


class MetadataInterceptor(_UnaryUnary, _UnaryStream):
    """Adds default metadata to every unary and server-streaming call.

    A key the call already carries is not added again, so a per-call
    `authorization` overrides the default token.
    """

    def __init__(self, metadata: Metadata) -> None:
        for key, _ in metadata:
            if key != key.lower():
                raise ValueError(f"gRPC metadata keys must be lower case: {key!r}")
        self._metadata = tuple(metadata)

    def _with_metadata(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        own = list(details.metadata or ())
        present = {key for key, _ in own}
        merged = tuple(own) + tuple((key, value) for key, value in self._metadata if key not in present)
        return _CallDetails(
            details.method,
            details.timeout,
            merged,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(
        self, continuation: Callable[[grpc.ClientCallDetails, Any], Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._with_metadata(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Callable[[grpc.ClientCallDetails, Any], Any], client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._with_metadata(client_call_details), request)


class TicketdClient:
    """A channel to ticketd with `tickets` (TicketService) and `policy` (PolicyService) stubs.

    Use it as a context manager, or call `close()`:

        with TicketdClient("http://127.0.0.1:50051") as client:
            policy = client.policy.GetPolicy(policy_service_pb2.GetPolicyRequest(), timeout=5)

    Args:
        address: `http://host:port`, `https://host:port` or `host:port`.
        credentials: TLS channel credentials, e.g. `grpc.ssl_channel_credentials(root_certificates=...)`.
            Given, they are used whatever the address scheme says.
        token: sent as `authorization: Bearer <token>` on every call. Over a plaintext
            channel the token travels in the clear: use TLS outside localhost.
        metadata: more (key, value) pairs sent on every call.
        interceptors: extra client interceptors; they run after the metadata interceptor,
            nearest the wire.
        options: gRPC channel options, e.g. `[("grpc.keepalive_time_ms", 30000)]`.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        metadata: Metadata = (),
        interceptors: Sequence[ClientInterceptor] = (),
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        target, tls = parse_address(address)
        if credentials is None and tls:
            credentials = grpc.ssl_channel_credentials()
        self.address = address
        self.target = target
        self._channel: grpc.Channel = (
            grpc.secure_channel(target, credentials, options=list(options))
            if credentials is not None
            else grpc.insecure_channel(target, options=list(options))
        )
        defaults = list(metadata)
        if token:
            defaults.append(("authorization", f"Bearer {token}"))
        chain: list[ClientInterceptor] = []
        if defaults:
            chain.append(MetadataInterceptor(defaults))
        chain.extend(interceptors)
        self.channel: grpc.Channel = grpc.intercept_channel(self._channel, *chain) if chain else self._channel
        self.tickets = ticket_service_pb2_grpc.TicketServiceStub(self.channel)
        self.policy = policy_service_pb2_grpc.PolicyServiceStub(self.channel)

    @classmethod
    def from_env(cls, **kwargs: Any) -> TicketdClient:
        """Connects to `$TICKETD_ADDR` (default `http://127.0.0.1:50051`) with `$TICKETD_TOKEN` if set."""
        kwargs.setdefault("token", os.environ.get("TICKETD_TOKEN") or None)
        return cls(os.environ.get("TICKETD_ADDR", DEFAULT_ADDRESS), **kwargs)

    def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected; raises `grpc.FutureTimeoutError` after `timeout` seconds."""
        grpc.channel_ready_future(self._channel).result(timeout=timeout)

    def iter_tickets(
        self,
        *,
        account: str = "",
        channel: policy_pb2.Channel.ValueType = policy_pb2.CHANNEL_UNSPECIFIED,
        priority: policy_pb2.Priority.ValueType = policy_pb2.PRIORITY_UNSPECIFIED,
        page_size: int = 0,
        timeout: float | None = 10.0,
        metadata: Metadata = (),
    ) -> Iterator[ticket_pb2.Ticket]:
        """Yields every ticket matching the filters, newest first, following `next_page_token`.

        `account` is an account id (`acme`) or name (`accounts/acme`); empty means all accounts.
        """
        request = ticket_service_pb2.ListTicketsRequest(
            account=account_name(account) if account else "",
            channel=channel,
            priority=priority,
            page_size=page_size,
        )
        while True:
            response = self.tickets.ListTickets(request, timeout=timeout, metadata=tuple(metadata))
            yield from response.tickets
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> TicketdClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TicketdClient({self.address!r})"

