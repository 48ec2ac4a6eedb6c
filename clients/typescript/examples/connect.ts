/** How the examples reach ticketd: `--addr` or TICKETD_ADDR, `--grpc-web`, `--token` or TICKETD_TOKEN. */
import { Code, createTicketdClients, type TicketdClients, type TicketdTransportOptions } from "../src/index.js";
import { createNodeTransport } from "../src/node.js";
import { createWebTransport } from "../src/web.js";

export const connectionOptions = {
  addr: { type: "string" },
  "grpc-web": { type: "boolean", default: false },
  token: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

export function connect(values: { addr?: string; "grpc-web"?: boolean; token?: string }): TicketdClients {
  const options: TicketdTransportOptions = {
    baseUrl: values.addr ?? process.env["TICKETD_ADDR"] ?? "http://127.0.0.1:50051",
    token: values.token ?? process.env["TICKETD_TOKEN"],
    defaultTimeoutMs: 10_000,
  };
  const transport = values["grpc-web"] ? createWebTransport(options) : createNodeTransport(options);
  return createTicketdClients(transport);
}

export const CONNECTION_USAGE = `  -h, --help         show this help
  --addr URL         ticketd address (env TICKETD_ADDR, default http://127.0.0.1:50051)
  --grpc-web         use gRPC-Web over fetch instead of native gRPC
  --token TOKEN      bearer token (env TICKETD_TOKEN)`;

/** Printed under an UNAUTHENTICATED error: where the token comes from. */
export function tokenHint(code: Code): string | undefined {
  return code === Code.Unauthenticated
    ? "  ticketd needs a token: set TICKETD_TOKEN (or --token) to one issued by `ticketd admin credentials issue`"
    : undefined;
}
