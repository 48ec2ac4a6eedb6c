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
  };
  if (options.fetch) {
    transportOptions.fetch = options.fetch;
  }
  return createGrpcWebTransport(transportOptions);
}

/** Both ticketd clients over gRPC-Web. */
export function createWebClients(options: WebTransportOptions): TicketdClients {
  return createTicketdClients(createWebTransport(options));
}
