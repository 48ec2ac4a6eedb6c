/**
 * Native gRPC (HTTP/2) for Node.js services. Not for browsers: use
 * `@ticketd/client/web` there.
 */
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { interceptorsFor, type TicketdTransportOptions } from "./auth.js";
import { createTicketdClients, type TicketdClients } from "./client.js";

export interface NodeTransportOptions extends TicketdTransportOptions {
  /**
   * Options for Node's `http2.connect()`, e.g. `{ ca }` for a private CA with an
   * `https://` baseUrl. An `http://` baseUrl is plaintext HTTP/2 (h2c).
   */
  nodeOptions?: GrpcTransportOptions["nodeOptions"];
  /** Other transport options (compression, keep-alive pings, size limits). */
  transport?: Omit<GrpcTransportOptions, "baseUrl" | "interceptors" | "nodeOptions" | "defaultTimeoutMs">;
}

/**
 * A native gRPC transport. connect-node v2 always speaks gRPC over HTTP/2 (the
 * `httpVersion: "2"` of v1 is implied). One transport keeps one HTTP/2
 * connection; create it once and share it.
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  return createGrpcTransport({
    ...options.transport,
    baseUrl: options.baseUrl,
    interceptors: interceptorsFor(options),
    defaultTimeoutMs: options.defaultTimeoutMs,
    nodeOptions: options.nodeOptions,
  });
}

/** Both ticketd clients over native gRPC. */
export function createNodeClients(options: NodeTransportOptions): TicketdClients {
  return createTicketdClients(createNodeTransport(options));
}
