"""Client interceptors that simulate a flaky line between the IVR and ticketd."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
from google.rpc import status_pb2  # type: ignore[import-untyped]

CREATE_TICKET = "/support.v1.TicketService/CreateTicket"

if TYPE_CHECKING:
    _Interceptor = grpc.UnaryUnaryClientInterceptor[Any, Any]
    _Future = grpc.Future[Any]
else:
    _Interceptor = grpc.UnaryUnaryClientInterceptor
    _Future = grpc.Future


class InjectedRpcError(grpc.RpcError, grpc.Call, _Future):
    """An RpcError as the gRPC library raises it: also a Call with code, details and trailers,
    and a finished Future whose result() raises it (what an interceptor further out receives
    when this one fails, e.g. the client's token interceptor).

    With `status`, the trailers carry it as `grpc-status-details-bin`, as ticketd sends them;
    `trailers` adds other trailing metadata (e.g. `retry-after`).
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        status: status_pb2.Status | None = None,
        trailers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(details)
        self._code = code
        self._details = details
        self._trailers: tuple[tuple[str, str | bytes], ...] = (
            (("grpc-status-details-bin", status.SerializeToString()),) if status is not None else ()
        ) + trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[Any, ...]:
        return self._trailers

    def initial_metadata(self) -> tuple[Any, ...]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float:
        return 0.0

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False

    # grpc.Future: already done, with this error.
    def cancelled(self) -> bool:
        return False

    def running(self) -> bool:
        return False

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> Any:
        raise self

    def exception(self, timeout: float | None = None) -> Exception | None:
        return self

    def traceback(self, timeout: float | None = None) -> Any:
        return None

    def add_done_callback(self, fn: Callable[[_Future], None]) -> None:
        fn(self)


class LoseResponses(_Interceptor):
    """Fails the first `times` calls of `method` with `error()`.

    With `deliver=True` (the default) each of those calls first really goes to
    the server and completes there, and only its answer is thrown away: the
    server has done the work, the client sees UNAVAILABLE (or whatever `error`
    makes). With `deliver=False` the server is never reached. Every request
    sent for `method` is recorded in `requests`.
    """

    def __init__(
        self,
        error: Callable[[], grpc.RpcError] = lambda: InjectedRpcError(
            grpc.StatusCode.UNAVAILABLE, "injected: connection reset before the response arrived"
        ),
        *,
        times: int = 1,
        deliver: bool = True,
        method: str = CREATE_TICKET,
    ) -> None:
        self.error = error
        self.failures_left = times
        self.deliver = deliver
        self.method = method
        self.requests: list[Any] = []
        self.delivered = 0

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        if client_call_details.method != self.method:
            return continuation(client_call_details, request)
        copy = type(request)()
        copy.CopyFrom(request)
        self.requests.append(copy)
        if self.failures_left <= 0:
            return continuation(client_call_details, request)
        self.failures_left -= 1
        if self.deliver:
            outcome = continuation(client_call_details, request)
            outcome.result()  # a real failure propagates; a success is dropped below
            self.delivered += 1
        raise self.error()


class RecordMetadata(_Interceptor):
    """Records the metadata of every unary call that passes, then lets it through."""

    def __init__(self) -> None:
        self.metadata: list[tuple[tuple[str, str | bytes], ...]] = []

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        self.metadata.append(tuple(client_call_details.metadata or ()))
        return continuation(client_call_details, request)
