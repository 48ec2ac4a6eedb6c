/** gRPC-Web (what browsers use) from Node's built-in fetch against a live ticketd. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Channel,
  Code,
  ConnectError,
  ImpactScope,
  Plan,
  Region,
  RequestKind,
  Workaround,
  allowedChannels,
  fieldViolations,
  type TicketdClients,
} from "../src/index.js";
import { createWebClients } from "../src/web.js";
import { accountId, createAccountAndChatTicket } from "./fixtures.js";
import { startTicketd, type TicketdServer } from "./ticketd-server.js";

describe("gRPC-Web over fetch", () => {
  let server: TicketdServer;
  let clients: TicketdClients;
  /** The content-type of every response, to show the calls really were gRPC-Web. */
  const contentTypes: string[] = [];

  before(async () => {
    server = await startTicketd();
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      contentTypes.push(response.headers.get("content-type") ?? "");
      return response;
    };
    clients = createWebClients({ baseUrl: server.baseUrl, token: server.adminToken, fetch: recordingFetch, defaultTimeoutMs: 10_000 });
  });
  after(async () => {
    await server?.stop();
  });

  test("creates an account and a chat ticket: number, priority decision, due = received + target", async () => {
    contentTypes.length = 0;
    await createAccountAndChatTicket(clients, "web");
    assert.ok(contentTypes.length >= 4, `responses went through fetch (${contentTypes.length})`);
    for (const type of contentTypes) {
      assert.match(type, /^application\/grpc-web(\+proto)?$/);
    }
  });

  test("a token is sent as an authorization header", async () => {
    let authorization: string | null = null;
    const web = createWebClients({
      baseUrl: server.baseUrl,
      token: server.tokens.dashboard,
      fetch: async (input, init) => {
        authorization = new Headers(init?.headers).get("authorization");
        return fetch(input, init);
      },
    });
    await web.policy.getPolicy({});
    assert.equal(authorization, `Bearer ${server.tokens.dashboard}`);
  });

  test("error details arrive in the gRPC-Web trailers", async () => {
    const id = accountId("web");
    await clients.tickets.createAccount({ accountId: id, account: { displayName: "Free Co", plan: Plan.FREE } });
    const refusal = await clients.tickets
      .createTicket({
        account: `accounts/${id}`,
        origin: {
          case: "phoneCall",
          value: { callId: "ivr-002", callerNumber: "+14155550123", dialedNumber: "+18887999666", region: Region.US },
        },
        subject: "Cannot join",
        impact: { kind: RequestKind.PROBLEM, scope: ImpactScope.SERVICE_DOWN, workaround: Workaround.NONE },
      })
      .then(() => assert.fail("a phone ticket on the Free plan was accepted"), (err: unknown) => ConnectError.from(err));
    assert.equal(refusal.code, Code.FailedPrecondition);
    assert.deepEqual(allowedChannels(refusal), [Channel.WEB_FORM, Channel.CHAT]);

    const invalid = await clients.tickets
      .createTicket({ account: `accounts/${id}`, origin: { case: "webForm", value: {} } })
      .then(() => assert.fail("an empty ticket was accepted"), (err: unknown) => ConnectError.from(err));
    assert.equal(invalid.code, Code.InvalidArgument);
    const fields = fieldViolations(invalid).map((v) => v.field);
    assert.ok(fields.includes("subject") && fields.includes("web_form.contact_email"), fields.join(", "));
  });
});
