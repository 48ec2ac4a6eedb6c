/** The README's example commands, run as a user would, against a live ticketd. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { timestampDate } from "../src/index.js";
import { createNodeClients } from "../src/node.js";
import { startTicketd, type TicketdServer } from "./ticketd-server.js";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..", "examples");

describe("examples", () => {
  let server: TicketdServer;

  before(async () => {
    server = await startTicketd();
  });
  after(async () => {
    await server?.stop();
  });

  /** Runs an example with TICKETD_ADDR pointing at the test server. */
  async function run(example: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(examples, example), ...args], {
        env: { ...process.env, TICKETD_ADDR: server.baseUrl },
      });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const { stdout = "", stderr = "", code = -1 } = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout, stderr, code };
    }
  }

  test("create-account, then chat-bot posts the ticket number and due time", async () => {
    const created = await run("create-account.js", "--account", "acme", "--name", "Acme Ltd", "--plan", "pro");
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created accounts\/acme \(Acme Ltd\) on PLAN_PRO$/m);
    const again = await run("create-account.js", "--account", "acme", "--name", "Acme Ltd", "--plan", "pro");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already exists/);

    const bot = await run("chat-bot.js", "--account", "acme", "--session", "chat-42", "--message", "Screen sharing freezes for everyone");
    assert.equal(bot.code, 0, bot.stderr);
    const posted = /ticket #(\d+) for you \(priority P2 High\)\. Our support team will respond by (\S+) \(within 4h\)\./.exec(bot.stdout);
    assert.ok(posted, `the bot posted the ticket: ${bot.stdout}`);
    const [, number, due] = posted;

    // What the bot posted is what the server stored.
    const { tickets } = createNodeClients({ baseUrl: server.baseUrl });
    const { ticket } = await tickets.getTicket({ name: `tickets/${number}` });
    assert.equal(ticket?.account, "accounts/acme");
    assert.equal(ticket?.origin.case === "chat" && ticket.origin.value.chatSessionId, "chat-42");
    assert.ok(ticket?.responseDueAt);
    assert.equal(due, timestampDate(ticket.responseDueAt).toISOString());

    // The same chat session again (a bot retry) gets the same ticket, also over gRPC-Web.
    const retry = await run("chat-bot.js", "--grpc-web", "--account", "acme", "--session", "chat-42", "--message", "Screen sharing freezes for everyone");
    assert.equal(retry.code, 0, retry.stderr);
    assert.match(retry.stdout, new RegExp(`ticket #${number} for you`));
  });

  test("chat-bot reports field violations and exits non-zero", async () => {
    const bot = await run("chat-bot.js", "--account", "acme", "--session", "chat-43", "--transcript", "ftp://example.com/t/43");
    assert.equal(bot.code, 1);
    assert.match(bot.stderr, /^error: InvalidArgument: /m);
    assert.match(bot.stderr, /^ {2}field chat\.transcript_uri: /m);
  });
});
