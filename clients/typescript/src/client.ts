import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { PolicyService } from "./gen/support/v1/policy_service_pb.js";
import { TicketService } from "./gen/support/v1/ticket_service_pb.js";

/** Typed clients for both ticketd services, sharing one transport. */
export interface TicketdClients {
  /** support.v1.TicketService: accounts and tickets. */
  tickets: Client<typeof TicketService>;
  /** support.v1.PolicyService: the support policy, read-only. */
  policy: Client<typeof PolicyService>;
}

/**
 * Creates the TicketService and PolicyService clients on a transport: one from
 * `createNodeTransport()` (`@ticketd/client/node`, native gRPC) or
 * `createWebTransport()` (`@ticketd/client/web`, gRPC-Web), or any other
 * Connect transport.
 */
export function createTicketdClients(transport: Transport): TicketdClients {
  return {
    tickets: createClient(TicketService, transport),
    policy: createClient(PolicyService, transport),
  };
}
