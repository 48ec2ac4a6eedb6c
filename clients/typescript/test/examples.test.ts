/** The README's example commands, run as a user would, against a live ticketd. */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { timestampDate } from "../src/index.js";
import { createNodeClients } from "../src/node.js";
import { startTicketd, type CredentialName, type TicketdServer } from "./ticketd-server.js";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..", "examples");

describe("examples", () => {
  let server: TicketdServer;

  before(async () => {
    server = await startTicketd(["--watch-heartbeat-ms", "200"]);
  });
  after(async () => {
    await server?.stop();
  });

  /**
   * The environment an example runs in: TICKETD_ADDR pointing at the test server, and TICKETD_TOKEN holding the
   * credential the system would hold (the chat bot: intake for chat; the SLA dashboard: dashboard; creating
   * accounts: admin), or none.
   */
  function envFor(example: string, token?: CredentialName | null): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TICKETD_ADDR: server.baseUrl };
    delete env["TICKETD_TOKEN"];
    const credential =
      token !== undefined ? token : ({ "chat-bot.js": "chat-platform", "sla-dashboard.js": "dashboard" } as const)[example] ?? "admin";
    if (credential) env["TICKETD_TOKEN"] = server.tokens[credential];
    return env;
  }

  /** Runs an example with the environment of `envFor`. */
  async function run(example: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    return runAs(example, undefined, ...args);
  }

  async function runAs(
    example: string,
    token: CredentialName | null | undefined,
    ...args: string[]
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(examples, example), ...args], {
        env: envFor(example, token),
      });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const { stdout = "", stderr = "", code = -1 } = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout, stderr, code };
    }
  }

  /** Starts a long-running example; `waitFor` waits for its output to match. */
  function start(example: string, ...args: string[]) {
    const child = spawn(process.execPath, [join(examples, example), ...args], { env: envFor(example) });
    const output = { stdout: "", stderr: "" };
    child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exited = once(child, "exit");
    return {
      output,
      async waitFor(stream: "stdout" | "stderr", pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
        const deadline = Date.now() + ms;
        for (;;) {
          const match = pattern.exec(output[stream]);
          if (match) return match;
          if (Date.now() > deadline || child.exitCode !== null) {
            assert.fail(`${example} printed no ${pattern} on ${stream}:\n${output.stdout}\n${output.stderr}`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      /** Ctrl-C; resolves with the exit code. */
      async interrupt(): Promise<number | null> {
        if (child.exitCode === null) child.kill("SIGINT");
        await exited;
        return child.exitCode;
      },
    };
  }

  test("sla-dashboard: the wall from the snapshot, live events, heartbeats, a server restart, and --resume-cursor", async () => {
    const account = `wall-${Date.now()}`;
    assert.equal((await run("create-account.js", "--account", account, "--name", "Wall Co", "--plan", "pro")).code, 0);
    const chat = async (session: string, message: string) => {
      const bot = await run("chat-bot.js", "--account", account, "--session", session, "--message", message);
      assert.equal(bot.code, 0, bot.stderr);
      return /ticket #(\d+)/.exec(bot.stdout)?.[1];
    };
    const first = await chat(`${account}-1`, "Screen sharing freezes");

    const wall = start("sla-dashboard.js", "--grpc-web", "--account", account, "--state", "on-track,at-risk");
    try {
      await wall.waitFor("stdout", /^snapshot: 1 open: 1 on track$/m);
      await wall.waitFor("stdout", new RegExp(`^  #${first} P2_HIGH ON_TRACK due \\S+ \\(([0-9]+[hms] ?)+ left\\) accounts/${account} "Screen sharing freezes"$`, "m"));
      const second = await chat(`${account}-2`, "Audio drops");
      await wall.waitFor("stdout", new RegExp(`^\\+ RECEIVED: #${second} P2_HIGH ON_TRACK .* "Audio drops" \\[2 open\\]$`, "m"));
      await wall.waitFor("stdout", /^heartbeat \S+Z: 2 open: 2 on track$/m);

      await server.restart();
      await wall.waitFor("stderr", /^stream ended \(Unavailable SERVER_SHUTTING_DOWN: .*\); resuming after \S+ in \d+ ms$/m);
      const third = await chat(`${account}-3`, "Video lags");
      await wall.waitFor("stdout", new RegExp(`^\\+ RECEIVED: #${third} .* \\[3 open\\]$`, "m"));
    } finally {
      assert.equal(await wall.interrupt(), 0, wall.output.stderr);
    }
    assert.equal(wall.output.stdout.match(/^\+ /gm)?.length, 2, `each event once:\n${wall.output.stdout}`);
    const cursor = /^stopped; to carry on from here: --resume-cursor (\S+)$/m.exec(wall.output.stdout)?.[1];
    assert.ok(cursor, wall.output.stdout);

    // Carrying on from the cursor: only what happened since, no snapshot.
    const fourth = await chat(`${account}-4`, "Mic muted");
    const again = start("sla-dashboard.js", "--account", account, "--resume-cursor", cursor);
    try {
      await again.waitFor("stdout", new RegExp(`^\\+ RECEIVED: #${fourth} .* \\[1 open\\]$`, "m"));
      await again.waitFor("stdout", /^heartbeat /m);
    } finally {
      assert.equal(await again.interrupt(), 0, again.output.stderr);
    }
    assert.doesNotMatch(again.output.stdout, /^snapshot/m);
    assert.equal(again.output.stdout.match(/^\+ /gm)?.length, 1, again.output.stdout);
  });

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
    const { tickets } = createNodeClients({ baseUrl: server.baseUrl, token: server.adminToken });
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

  test("without a token, or with one that may not, the examples say so and exit non-zero", async () => {
    const anonymous = await runAs("chat-bot.js", null, "--account", "acme", "--session", "chat-44", "--message", "Hello");
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /^error: Unauthenticated: /m);
    assert.match(anonymous.stderr, /set TICKETD_TOKEN/);

    // The chat platform's credential may not create accounts.
    const denied = await runAs("create-account.js", "chat-platform", "--account", "nope", "--name", "Nope", "--plan", "pro");
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^error: PermissionDenied: this credential lacks scope admin$/m);
  });

  test("chat-bot reports field violations and exits non-zero", async () => {
    const bot = await run("chat-bot.js", "--account", "acme", "--session", "chat-43", "--transcript", "ftp://example.com/t/43");
    assert.equal(bot.code, 1);
    assert.match(bot.stderr, /^error: InvalidArgument: /m);
    assert.match(bot.stderr, /^ {2}field chat\.transcript_uri: /m);
  });
});
