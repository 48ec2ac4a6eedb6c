/** Native gRPC (HTTP/2) from Node against a live ticketd. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  Channel,
  Code,
  ConnectError,
  ERROR_DOMAIN,
  ErrorReason,
  ImpactScope,
  Plan,
  Region,
  RequestKind,
  Workaround,
  allowedChannels,
  describeError,
  fieldViolations,
  type CreateTicketRequestSchema,
  type TicketdClients,
} from "../src/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createNodeClients } from "../src/node.js";
import { accountId, createAccountAndChatTicket } from "./fixtures.js";
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

describe("native gRPC", () => {
  let server: TicketdServer;
  let clients: TicketdClients;

  before(async () => {
    server = await startTicketd();
    clients = createNodeClients({ baseUrl: server.baseUrl, token: server.adminToken, defaultTimeoutMs: 10_000 });
  });
  after(async () => {
    await server?.stop();
  });

  async function createAccount(plan: Plan): Promise<string> {
    const id = accountId("native");
    await clients.tickets.createAccount({ accountId: id, account: { displayName: "Test Co", plan } });
    return `accounts/${id}`;
  }

  test("a token is sent as authorization: Bearer metadata, read before every call", async () => {
    const seen: (string | null)[] = [];
    let token = server.adminToken;
    const withToken = createNodeClients({
      baseUrl: server.baseUrl,
      token: () => token,
      interceptors: [
        (next) => async (req) => {
          seen.push(req.header.get("authorization"));
          return next(req);
        },
      ],
    });
    await withToken.policy.getPolicy({});
    token = server.tokens.dashboard;
    await withToken.policy.getPolicy({});
    assert.deepEqual(seen, [`Bearer ${server.adminToken}`, `Bearer ${server.tokens.dashboard}`]);
  });

  test("creates an account and a chat ticket: number, priority decision, due = received + target", async () => {
    await createAccountAndChatTicket(clients, "native");
  });

  test("CHANNEL_NOT_IN_PLAN refusal is decoded into the allowed channels", async () => {
    const account = await createAccount(Plan.FREE);
    const err = await rejection(
      clients.tickets.createTicket({
        account,
        origin: {
          case: "phoneCall",
          value: { callId: "ivr-001", callerNumber: "+14155550123", dialedNumber: "+18887999666", region: Region.US },
        },
        subject: "Cannot join",
        impact: { kind: RequestKind.PROBLEM, scope: ImpactScope.SERVICE_DOWN, workaround: Workaround.NONE },
      }),
    );
    assert.equal(err.code, Code.FailedPrecondition);
    assert.deepEqual(allowedChannels(err), [Channel.WEB_FORM, Channel.CHAT]);

    const details = describeError(err);
    assert.equal(details.domain, ERROR_DOMAIN);
    assert.equal(details.reason, ErrorReason.CHANNEL_NOT_IN_PLAN);
    assert.equal(details.metadata["plan"], "PLAN_FREE");
    assert.equal(details.metadata["channel"], "CHANNEL_PHONE");
    assert.deepEqual(details.allowedChannels, [Channel.WEB_FORM, Channel.CHAT]);

    // Nothing was written.
    const { tickets } = await clients.tickets.listTickets({ account });
    assert.equal(tickets.length, 0);
  });

  test("a validation error is decoded into field violations", async () => {
    const account = await createAccount(Plan.PRO);
    const err = await rejection(
      clients.tickets.createTicket({
        account,
        origin: { case: "chat", value: {} },
        impact: { kind: RequestKind.PROBLEM },
      }),
    );
    assert.equal(err.code, Code.InvalidArgument);
    const fields = fieldViolations(err).map((v) => v.field);
    for (const field of ["subject", "chat.chat_session_id", "chat.first_message", "impact.scope"]) {
      assert.ok(fields.includes(field), `a violation for ${field}; got ${fields.join(", ")}`);
    }
    for (const violation of fieldViolations(err)) {
      assert.ok(violation.description, `${violation.field} has a description`);
    }
    assert.equal(describeError(err).reason, ErrorReason.INVALID_FIELDS);
    assert.equal(allowedChannels(err), undefined);

    const { tickets } = await clients.tickets.listTickets({ account });
    assert.equal(tickets.length, 0, "nothing is written");
  });

  test("a retry with the same request_id returns the same ticket", async () => {
    const account = await createAccount(Plan.PRO);
    const request: MessageInitShape<typeof CreateTicketRequestSchema> = {
      account,
      origin: { case: "chat", value: { chatSessionId: "chat-retry", transcriptUri: "https://chat.example/t/1" } },
      subject: "How do I export reports?",
      impact: { kind: RequestKind.INFORMATION },
      requestId: randomUUID(),
    };
    const first = (await clients.tickets.createTicket(request)).ticket;
    const retry = (await clients.tickets.createTicket(request)).ticket;
    assert.ok(first && retry);
    assert.equal(retry.name, first.name);
    assert.equal(retry.number, first.number);
    assert.deepEqual(retry.receivedAt, first.receivedAt);
    assert.equal(retry.requestId, request.requestId);

    const { tickets } = await clients.tickets.listTickets({ account });
    assert.deepEqual(
      tickets.map((t) => t.name),
      [first.name],
      "the retry wrote nothing",
    );

    // The same id with different content is refused.
    const reused = await rejection(clients.tickets.createTicket({ ...request, subject: "Something else" }));
    assert.equal(reused.code, Code.AlreadyExists);
    assert.equal(describeError(reused).reason, ErrorReason.REQUEST_ID_REUSED);
  });
});
