/**
 * gRPC-Web (HTTP/1.1 or HTTP/2 via fetch) for browsers. Also works in Node.js
 * 18+ through its built-in fetch. A browser on another origin than ticketd's
 * needs the server's `--cors-allowed-origins` to list that origin.
 */
import type { Transport } from "@connectrpc/connect";
import { createGrpcWebTransport, type GrpcWebTransportOptions } from "@connectrpc/connect-web";
import { interceptorsFor, type TicketdTransportOptions } from "./auth.js";
import { createTicketdClients, type TicketdClients } from "./client.js";

export interface WebTransportOptions extends TicketdTransportOptions {
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
}

/** A gRPC-Web transport (binary format, as ticketd's tonic-web expects). */
export function createWebTransport(options: WebTransportOptions): Transport {
  const transportOptions: GrpcWebTransportOptions = {
    baseUrl: options.baseUrl,
    interceptors: interceptorsFor(options),
    defaultTimeoutMs: options.defaultTimeoutMs,
    useBinaryFormat: true,
    fetch: abortableFetch(options.fetch),
  };
  return createGrpcWebTransport(transportOptions);
}

/**
 * Connect calls fetch with `redirect: "error"`. Node's fetch (undici before
 * nodejs/undici#4750, e.g. Node 20) then loses the call's abort once its
 * internal Request is garbage collected (nodejs/undici#4627): a long-lived
 * stream such as WatchSlaStatus can no longer be cancelled, and keeps its
 * connection and delivering updates. `redirect: "manual"` does not have that
 * bug, and a redirect still fails the call: gRPC-Web answers 200, and Connect
 * refuses any other status.
 */
function abortableFetch(fetchImpl: typeof globalThis.fetch | undefined): typeof globalThis.fetch {
  return (input, init) =>
    (fetchImpl ?? globalThis.fetch)(input, init?.redirect === "error" ? { ...init, redirect: "manual" } : init);
}

/** Both ticketd clients over gRPC-Web. */
export function createWebClients(options: WebTransportOptions): TicketdClients {
  return createTicketdClients(createWebTransport(options));
}
