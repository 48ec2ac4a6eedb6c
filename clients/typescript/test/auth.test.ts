/**
 * Credentials over both transports against a live ticketd: a call without a
 * valid token is UNAUTHENTICATED, and a credential whose role lacks the scope
 * an RPC needs is PERMISSION_DENIED with reason MISSING_SCOPE naming it.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  Code,
  ConnectError,
  ERROR_DOMAIN,
  ErrorReason,
  ImpactScope,
  NotificationMethod,
  Plan,
  Region,
  RequestKind,
  TicketStatus,
  Workaround,
  describeError,
  watchSlaStatus,
  type TicketdClients,
  type TicketdTransportOptions,
} from "../src/index.js";
import { createNodeClients } from "../src/node.js";
import { createWebClients } from "../src/web.js";
import { accountId } from "./fixtures.js";
import { startTicketd, type TicketdServer } from "./ticketd-server.js";

/** Runs `call`, expects it to fail, and returns the error as a ConnectError. */
async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ConnectError, `a ConnectError, got ${String(err)}`);
    return err;
  }
  assert.fail("the call succeeded, but an error was expected");
}

const transports: [string, (options: TicketdTransportOptions) => TicketdClients][] = [
  ["gRPC-Web", (options) => createWebClients({ defaultTimeoutMs: 10_000, ...options })],
  ["native gRPC", (options) => createNodeClients({ defaultTimeoutMs: 10_000, ...options })],
];

describe("credentials", () => {
  let server: TicketdServer;
  let admin: TicketdClients;
  let account: string;
  let ticketName: string;

  before(async () => {
    server = await startTicketd();
    admin = createNodeClients({ baseUrl: server.baseUrl, token: server.adminToken, defaultTimeoutMs: 10_000 });
    const id = accountId("auth");
    await admin.tickets.createAccount({ accountId: id, account: { displayName: "Auth Co", plan: Plan.BUSINESS } });
    account = `accounts/${id}`;
    const { ticket } = await admin.tickets.createTicket({
      account,
      origin: { case: "chat", value: { chatSessionId: `chat-${randomUUID()}`, firstMessage: "Audio drops" } },
      subject: "Audio drops",
      impact: { kind: RequestKind.PROBLEM, scope: ImpactScope.DEGRADED, workaround: Workaround.NONE },
    });
    assert.ok(ticket);
    ticketName = ticket.name;
  });
  after(async () => {
    await server?.stop();
  });

  for (const [name, connect] of transports) {
    test(`${name}: no token, or one ticketd does not accept, is UNAUTHENTICATED`, async () => {
      const [, id] = server.adminToken.split("_");
      const wrongSecret = `tkd_${id}_${"0".repeat(64)}`; // a real credential's id with another secret
      for (const token of [undefined, "not-a-ticketd-token", wrongSecret]) {
        const clients = connect({ baseUrl: server.baseUrl, token });
        const err = await rejection(clients.policy.getPolicy({}));
        assert.equal(err.code, Code.Unauthenticated, `token ${token}: ${err.message}`);
        const details = describeError(err);
        assert.equal(details.reason, ErrorReason.UNAUTHENTICATED);
        assert.equal(details.domain, ERROR_DOMAIN);
      }

      // The watch loop gives up at once: reconnecting cannot make a credential valid.
      const reconnects: unknown[] = [];
      const refused = await rejection(
        watchSlaStatus(connect({ baseUrl: server.baseUrl }).tickets, { account }, () => {}, {
          onReconnect: (r) => reconnects.push(r),
        }),
      );
      assert.equal(refused.code, Code.Unauthenticated);
      assert.deepEqual(reconnects, []);
    });

    test(`${name}: a dashboard credential reads tickets, but acting on one is PERMISSION_DENIED MISSING_SCOPE tickets.act`, async () => {
      const dashboard = connect({ baseUrl: server.baseUrl, token: server.tokens.dashboard });
      const { ticket } = await dashboard.tickets.getTicket({ name: ticketName });
      assert.equal(ticket?.name, ticketName);

      const err = await rejection(
        dashboard.tickets.acknowledgeTicket({ name: ticketName, responder: "lead@support", method: NotificationMethod.EMAIL }),
      );
      assert.equal(err.code, Code.PermissionDenied, err.message);
      const details = describeError(err);
      assert.equal(details.reason, ErrorReason.MISSING_SCOPE);
      assert.equal(details.domain, ERROR_DOMAIN);
      assert.deepEqual(details.metadata, { scope: "tickets.act" });

      // Refused before any handler ran: the ticket is as it was.
      const { ticket: after } = await admin.tickets.getTicket({ name: ticketName });
      assert.equal(after?.status, TicketStatus.NEW);
      assert.equal(after?.firstResponse, undefined, "no first response recorded");
    });
  }

  test("the chat platform's credential (intake, chat) creating a phone ticket: PERMISSION_DENIED naming the channel", async () => {
    const chat = createNodeClients({ baseUrl: server.baseUrl, token: server.tokens["chat-platform"] });
    const err = await rejection(
      chat.tickets.createTicket({
        account,
        origin: {
          case: "phoneCall",
          value: { callId: "ivr-9", callerNumber: "+14155550123", dialedNumber: "+18887999666", region: Region.US },
        },
        subject: "Cannot join",
        impact: { kind: RequestKind.PROBLEM, scope: ImpactScope.SERVICE_DOWN, workaround: Workaround.NONE },
      }),
    );
    assert.equal(err.code, Code.PermissionDenied);
    const details = describeError(err);
    assert.equal(details.reason, ErrorReason.MISSING_SCOPE);
    assert.deepEqual(details.metadata, { scope: "tickets.create", channel: "CHANNEL_PHONE" });
    const { tickets } = await admin.tickets.listTickets({ account });
    assert.deepEqual(
      tickets.map((t) => t.name),
      [ticketName],
      "nothing was written",
    );
  });
});
