/**
 * WatchSlaStatus against a live ticketd (heartbeats every 200 ms): the stream
 * itself over gRPC-Web (the browser transport, through Node's fetch) and native
 * gRPC, and the watchSlaStatus() resume loop with SlaBoard through a server
 * restart. Every test watches its own account, so they share a server.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  Code,
  ConnectError,
  ERROR_DOMAIN,
  ErrorInfoSchema,
  ErrorReason,
  ImpactScope,
  NotificationMethod,
  Plan,
  Priority,
  RequestKind,
  SlaBoard,
  SlaState,
  TicketEventKind,
  TicketStatus,
  Workaround,
  watchSlaStatus,
  type SlaBoardChange,
  type SlaWatchFilter,
  type SlaWatchReconnect,
  type Ticket,
  type TicketdClients,
  type WatchSlaStatusResponse,
} from "../src/index.js";
import { createNodeClients, type NodeTransportOptions } from "../src/node.js";
import { createWebClients } from "../src/web.js";
import { accountId } from "./fixtures.js";
import { startTicketd, type TicketdServer } from "./ticketd-server.js";

const HEARTBEAT_MS = 200;
const WATCH = "/support.v1.TicketService/WatchSlaStatus";

/** One WatchSlaStatus call, read an update at a time, each within a deadline. */
class Updates {
  private readonly abort = new AbortController();
  private readonly iterator: AsyncIterator<WatchSlaStatusResponse>;

  constructor(clients: TicketdClients, request: SlaWatchFilter & { resumeCursor?: string }) {
    const stream = clients.tickets.watchSlaStatus(request, { signal: this.abort.signal, timeoutMs: 0 });
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next update, heartbeats included. */
  async next(ms = 5_000): Promise<WatchSlaStatusResponse> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no update within ${ms} ms`)), ms);
    });
    try {
      const result = await Promise.race([this.iterator.next(), timeout]);
      assert.ok(!result.done, "the stream ended");
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next update that is not a heartbeat. */
  async nextChange(ms = 5_000): Promise<WatchSlaStatusResponse> {
    const deadline = Date.now() + ms;
    for (;;) {
      const update = await this.next(Math.max(deadline - Date.now(), 1));
      if (update.update.case !== "heartbeat") {
        return update;
      }
    }
  }

  close(): void {
    this.abort.abort();
  }
}

async function createAccount(clients: TicketdClients, prefix: string): Promise<string> {
  const id = accountId(prefix);
  await clients.tickets.createAccount({ accountId: id, account: { displayName: "Watch Co", plan: Plan.PRO } });
  return `accounts/${id}`;
}

/** A Pro chat ticket: problem, degraded, no workaround → P2 High, on track. */
async function createTicket(clients: TicketdClients, account: string, subject: string): Promise<Ticket> {
  const { ticket } = await clients.tickets.createTicket({
    account,
    origin: { case: "chat", value: { chatSessionId: `chat-${randomUUID()}`, firstMessage: subject } },
    subject,
    impact: { kind: RequestKind.PROBLEM, scope: ImpactScope.DEGRADED, workaround: Workaround.NONE },
  });
  assert.ok(ticket);
  return ticket;
}

function eventOf(update: WatchSlaStatusResponse) {
  assert.equal(update.update.case, "event", `an event, got ${update.update.case}`);
  const { event, ticket } = update.update.value;
  assert.ok(event && ticket);
  return { event, ticket };
}

/** Waits up to 10 s until `ready()` holds, checking every 10 ms; fails at once if one of `runs` ended with an error. */
async function until(what: string, ready: () => boolean, ...runs: { failure: () => unknown }[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ready()) {
    for (const run of runs) {
      if (run.failure() !== undefined) {
        assert.fail(`the watch loop failed while waiting for ${what}: ${String(run.failure())}`);
      }
    }
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** watchSlaStatus() feeding an SlaBoard in the background, recording what happened. */
function runBoard(clients: TicketdClients, filter: SlaWatchFilter, options: { staleAfterMs?: number } = {}) {
  const board = new SlaBoard(filter);
  const changes: SlaBoardChange[] = [];
  const reconnects: SlaWatchReconnect[] = [];
  const stop = new AbortController();
  const done = watchSlaStatus(clients.tickets, filter, (update, stream) => void changes.push(board.apply(update, stream)), {
    signal: stop.signal,
    backoff: { initialMs: 50, maxMs: 500 },
    staleAfterMs: options.staleAfterMs,
    onReconnect: (reconnect) => reconnects.push(reconnect),
  });
  // Recorded here, so a failing loop fails the wait for it rather than the whole file (unhandled rejection).
  let failure: unknown;
  done.catch((err: unknown) => {
    failure = err ?? new Error("the loop failed");
  });
  /** Names of the tickets that came onto the board through events, in order. */
  const added = () => changes.flatMap((c) => (c.kind === "added" ? [c.ticket.name] : []));
  const snapshots = () => changes.filter((c) => c.kind === "snapshot").length;
  return { board, changes, reconnects, added, snapshots, stop: () => stop.abort(), done, failure: () => failure };
}

const transports: [string, (baseUrl: string, options?: Partial<NodeTransportOptions>) => TicketdClients][] = [
  ["gRPC-Web", (baseUrl, options) => createWebClients({ baseUrl, defaultTimeoutMs: 10_000, ...options })],
  ["native gRPC", (baseUrl, options) => createNodeClients({ baseUrl, defaultTimeoutMs: 10_000, ...options })],
];

describe("WatchSlaStatus", () => {
  let server: TicketdServer;

  before(async () => {
    server = await startTicketd(["--watch-heartbeat-ms", String(HEARTBEAT_MS)]);
  });
  after(async () => {
    await server?.stop();
  });

  test("over gRPC-Web: a snapshot, snapshot_end with a cursor, then a live RECEIVED event and heartbeats", async () => {
    const contentTypes: string[] = [];
    const clients = createWebClients({
      baseUrl: server.baseUrl, token: server.adminToken,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        contentTypes.push(response.headers.get("content-type") ?? "");
        return response;
      },
    });
    const account = await createAccount(clients, "web-watch");
    const open = [await createTicket(clients, account, "First"), await createTicket(clients, account, "Second")];

    const updates = new Updates(clients, { account });
    try {
      const snapshot = [await updates.next(), await updates.next()];
      for (const update of snapshot) {
        assert.equal(update.update.case, "ticket");
        assert.equal(update.cursor, "", "snapshot tickets carry no cursor");
      }
      assert.deepEqual(
        snapshot.map((u) => (u.update.case === "ticket" ? u.update.value.name : "")).sort(),
        open.map((t) => t.name).sort(),
      );
      const first = snapshot[0]?.update.value;
      assert.ok(first && "slaState" in first);
      assert.equal(first.account, account);
      assert.equal(first.status, TicketStatus.NEW);
      assert.equal(first.slaState, SlaState.ON_TRACK);
      assert.equal(first.priority, Priority.P2_HIGH);
      assert.ok(first.responseDueAt && first.timeRemaining, "the deadline and time remaining are set");

      const end = await updates.next();
      assert.equal(end.update.case, "snapshotEnd");
      assert.equal(end.update.value.ticketCount, 2);
      assert.notEqual(end.cursor, "", "snapshot_end carries a cursor");

      const created = await createTicket(clients, account, "Third");
      const live = await updates.nextChange();
      const { event, ticket } = eventOf(live);
      assert.equal(event.kind, TicketEventKind.RECEIVED);
      assert.equal(event.ticket, created.name);
      assert.equal(ticket.name, created.name);
      assert.equal(ticket.number, created.number);
      assert.equal(ticket.slaState, SlaState.ON_TRACK);
      assert.ok(live.cursor && live.cursor !== end.cursor, "the event has its own cursor");

      const heartbeat = await updates.next(HEARTBEAT_MS * 10);
      assert.equal(heartbeat.update.case, "heartbeat");
      assert.ok(heartbeat.update.value.serverTime);
      assert.notEqual(heartbeat.cursor, "", "heartbeats carry a cursor");
    } finally {
      updates.close();
    }
    assert.ok(contentTypes.length > 0);
    for (const type of contentTypes) {
      assert.match(type, /^application\/grpc-web(\+proto)?$/);
    }
  });

  test("over gRPC-Web in Node: aborting a stream ends it, also after a garbage collection (nodejs/undici#4627)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const clients = createWebClients({ baseUrl: server.baseUrl, token: server.adminToken });
    const account = await createAccount(clients, "gc");
    const abort = new AbortController();
    const updates = clients.tickets.watchSlaStatus({ account }, { signal: abort.signal, timeoutMs: 0 })[Symbol.asyncIterator]();
    assert.equal((await updates.next()).value?.update.case, "snapshotEnd");
    gc();
    abort.abort();
    // Heartbeats come every 200 ms: a stream the abort did not reach keeps delivering them.
    let afterAbort = 0;
    const ended = await (async () => {
      try {
        while (afterAbort < 5) {
          if ((await updates.next()).done) return "ended without an error";
          afterAbort++;
        }
        return `still streaming: ${afterAbort} updates after the abort`;
      } catch (err) {
        return Code[ConnectError.from(err).code];
      }
    })();
    assert.equal(ended, Code[Code.Canceled]);
  });

  for (const [name, connect] of transports) {
    test(`over ${name}: reopened with a cursor, the stream sends exactly the events after it`, async () => {
      const clients = connect(server.baseUrl, { token: server.adminToken });
      const account = await createAccount(clients, "resume");

      const first = new Updates(clients, { account });
      let cursor: string;
      let seen: Ticket;
      try {
        const end = await first.next();
        assert.equal(end.update.case, "snapshotEnd");
        assert.equal(end.update.value.ticketCount, 0);
        seen = await createTicket(clients, account, "Seen before the stream closed");
        const update = await first.nextChange();
        assert.equal(eventOf(update).ticket.name, seen.name);
        cursor = update.cursor;
        assert.ok(cursor);
      } finally {
        first.close();
      }

      const missed = [await createTicket(clients, account, "Missed 1"), await createTicket(clients, account, "Missed 2")];
      const resumed = new Updates(clients, { account, resumeCursor: cursor });
      try {
        for (const ticket of missed) {
          const { event } = eventOf(await resumed.nextChange());
          assert.equal(event.kind, TicketEventKind.RECEIVED);
          assert.equal(event.ticket, ticket.name, "the missed events, in order, and not the one seen");
        }
        // Nothing else was pending: two heartbeats follow.
        for (let i = 0; i < 2; i++) {
          assert.equal((await resumed.next(HEARTBEAT_MS * 10)).update.case, "heartbeat");
        }
        const later = await createTicket(clients, account, "Live after the resume");
        assert.equal(eventOf(await resumed.nextChange()).ticket.name, later.name);
      } finally {
        resumed.close();
      }
    });
  }

  test("SlaBoard keeps the wall: drops tickets that resolve or leave the watched priorities or states", async () => {
    const clients = createWebClients({ baseUrl: server.baseUrl, token: server.adminToken, defaultTimeoutMs: 10_000 });
    const account = await createAccount(clients, "board");
    const [one, two] = [await createTicket(clients, account, "One"), await createTicket(clients, account, "Two")];
    const urgent = runBoard(clients, { account, priorities: [Priority.P1_URGENT, Priority.P2_HIGH] });
    const onTrack = runBoard(clients, { account, slaStates: [SlaState.ON_TRACK] });
    const names = (run: ReturnType<typeof runBoard>) => [...run.board.tickets.keys()].sort();
    /** `+Three`: came onto the board; `-One`: left it. */
    const moves = (run: ReturnType<typeof runBoard>) =>
      run.changes.flatMap((c) => (c.kind === "added" || c.kind === "removed" ? [`${c.kind === "added" ? "+" : "-"}${c.ticket.subject}`] : []));
    try {
      await until("the snapshots", () => urgent.snapshots() === 1 && onTrack.snapshots() === 1, urgent, onTrack);
      assert.deepEqual(names(urgent), [one.name, two.name].sort());
      assert.deepEqual(names(onTrack), [one.name, two.name].sort());

      const three = await createTicket(clients, account, "Three");
      await until("ticket three", () => urgent.board.tickets.has(three.name) && onTrack.board.tickets.has(three.name), urgent, onTrack);

      const reprioritize = (name: string, priority: Priority) =>
        clients.tickets.reprioritizeTicket({ name, priority, actor: "lead", reason: "test" });
      await reprioritize(one.name, Priority.P3_NORMAL);
      await until("ticket one to leave the P1/P2 wall", () => !urgent.board.tickets.has(one.name), urgent);

      await clients.tickets.acknowledgeTicket({ name: two.name, responder: "agent", method: NotificationMethod.EMAIL });
      await until("ticket two to leave the on-track wall (MET)", () => !onTrack.board.tickets.has(two.name), onTrack);
      await until("ticket two's first response on the P1/P2 wall", () => !!urgent.board.tickets.get(two.name)?.firstResponseAt, urgent);
      assert.equal(urgent.board.tickets.get(two.name)?.slaState, SlaState.MET);

      await clients.tickets.resolveTicket({ name: two.name, actor: "agent", note: "fixed" });
      await until("ticket two to leave the P1/P2 wall (resolved)", () => !urgent.board.tickets.has(two.name), urgent);

      await reprioritize(one.name, Priority.P2_HIGH);
      await until("ticket one back on the P1/P2 wall", () => urgent.board.tickets.has(one.name), urgent);

      assert.deepEqual(moves(urgent), ["+Three", "-One", "-Two", "+One"]);
      assert.deepEqual(moves(onTrack), ["+Three", "-Two"]);
      for (const run of [urgent, onTrack]) {
        assert.deepEqual(names(run), [one.name, three.name].sort());
        assert.deepEqual(run.reconnects, []);
        assert.notEqual(run.board.cursor, "");
      }
      assert.equal(urgent.board.tickets.get(one.name)?.priority, Priority.P2_HIGH);
      assert.deepEqual(
        urgent.board.byDeadline().map((t) => t.subject),
        ["One", "Three"],
        "both P2 again, due their target after receipt: One first",
      );
    } finally {
      urgent.stop();
      onTrack.stop();
    }
    assert.equal(await urgent.done, urgent.board.cursor, "the loop returns the last cursor");
    await onTrack.done;
  });

  test("watchSlaStatus() resumes after RESOURCE_EXHAUSTED WATCH_CONSUMER_TOO_SLOW from the error's resume_cursor", async () => {
    // A real WATCH_CONSUMER_TOO_SLOW needs more unread updates than the HTTP/2
    // windows hold, so an interceptor ends the first stream as the server would.
    // It does so once the server has read past an event this filtered stream
    // is not sent (another account's ticket): the error's resume_cursor is then
    // newer than the last cursor delivered, as it can be from the server.
    let delivered = "";
    let injected = "";
    let armed = false;
    const clients = createNodeClients({
      baseUrl: server.baseUrl, token: server.adminToken,
      interceptors: [
        (next) => async (req) => {
          const res = await next(req);
          if (!res.stream || !req.url.endsWith(WATCH) || injected) {
            return res;
          }
          async function* tooSlow(updates: AsyncIterable<WatchSlaStatusResponse>) {
            for await (const update of updates) {
              if (armed && update.update.case === "heartbeat" && update.cursor !== delivered) {
                injected = update.cursor; // withheld: only the error tells the client
                throw new ConnectError("this stream's client stopped taking updates", Code.ResourceExhausted, undefined, [
                  {
                    desc: ErrorInfoSchema,
                    value: { reason: ErrorReason.WATCH_CONSUMER_TOO_SLOW, domain: ERROR_DOMAIN, metadata: { resume_cursor: injected } },
                  },
                ]);
              }
              delivered = update.cursor || delivered;
              yield update;
            }
          }
          return { ...res, message: tooSlow(res.message as AsyncIterable<WatchSlaStatusResponse>) } as typeof res;
        },
      ],
    });
    const account = await createAccount(clients, "slow");
    const elsewhere = await createAccount(clients, "elsewhere");
    const run = runBoard(clients, { account });
    try {
      await until("the snapshot", () => run.snapshots() === 1, run);
      const first = await createTicket(clients, account, "Before the error");
      await until("ticket one", () => run.board.tickets.has(first.name), run);
      const lastDelivered = run.board.cursor;
      armed = true;
      await createTicket(clients, elsewhere, "Not on this wall");
      await until("the reconnect", () => run.reconnects.length === 1, run);
      const second = await createTicket(clients, account, "After the error");
      await until("ticket two", () => run.board.tickets.has(second.name), run);

      const [reconnect] = run.reconnects;
      assert.equal(reconnect?.error?.code, Code.ResourceExhausted);
      assert.ok(injected && injected !== lastDelivered, "the error's cursor is newer than the last one delivered");
      assert.equal(reconnect.cursor, injected, "resumes from the error's resume_cursor");
      assert.deepEqual(run.added(), [first.name, second.name], "each ticket once");
      assert.equal(run.snapshots(), 1, "no second snapshot");
    } finally {
      run.stop();
    }
    await run.done;
  });

  test("watchSlaStatus(): a stream dropped during its snapshot starts over, and SlaBoard discards the partial one", async () => {
    const plain = createNodeClients({ baseUrl: server.baseUrl, token: server.adminToken });
    const account = await createAccount(plain, "partial");
    const open = [await createTicket(plain, account, "One"), await createTicket(plain, account, "Two")];
    let dropped = "";
    // The first stream delivers one snapshot ticket, which is then resolved, and drops before snapshot_end.
    const clients = createNodeClients({
      baseUrl: server.baseUrl, token: server.adminToken,
      interceptors: [
        (next) => async (req) => {
          const res = await next(req);
          if (!res.stream || !req.url.endsWith(WATCH) || dropped) {
            return res;
          }
          async function* dropAfterOne(updates: AsyncIterable<WatchSlaStatusResponse>) {
            for await (const update of updates) {
              assert.equal(update.update.case, "ticket");
              dropped = update.update.value.name;
              yield update;
              await plain.tickets.acknowledgeTicket({ name: dropped, responder: "agent", method: NotificationMethod.EMAIL });
              await plain.tickets.resolveTicket({ name: dropped, actor: "agent" });
              throw new ConnectError("connection dropped", Code.Unavailable);
            }
          }
          return { ...res, message: dropAfterOne(res.message as AsyncIterable<WatchSlaStatusResponse>) } as typeof res;
        },
      ],
    });
    const run = runBoard(clients, { account });
    try {
      await until("the snapshot", () => run.snapshots() === 1, run);
      assert.deepEqual(
        run.reconnects.map((r) => [r.error ? Code[r.error.code] : "closed", r.cursor]),
        [["Unavailable", ""]],
        "no cursor yet: the second stream starts with a snapshot",
      );
      const kept = open.find((t) => t.name !== dropped);
      assert.ok(dropped && kept);
      assert.deepEqual([...run.board.tickets.keys()], [kept.name], "the ticket resolved after the partial snapshot is not on the board");
    } finally {
      run.stop();
    }
    await run.done;
  });

  test("watchSlaStatus() stops at once when aborted, even if the transport does not end the stream", async () => {
    // The transport never sees the abort, as with nodejs/undici#4627 (see src/web.ts).
    const clients = createNodeClients({
      baseUrl: server.baseUrl, token: server.adminToken,
      interceptors: [(next) => (req) => next({ ...req, signal: new AbortController().signal })],
    });
    const account = await createAccount(clients, "deaf");
    const run = runBoard(clients, { account });
    await until("the snapshot", () => run.snapshots() === 1, run);
    run.stop();
    const seen = run.changes.length;
    const stopped = await Promise.race([
      run.done.then(() => "resolved"),
      new Promise((r) => setTimeout(() => r(`still running ${HEARTBEAT_MS * 5} ms after the abort`), HEARTBEAT_MS * 5)),
    ]);
    assert.equal(stopped, "resolved");
    assert.equal(run.changes.length, seen, "nothing delivered after the abort");
  });

  test("watchSlaStatus() reconnects a stream that went quiet for staleAfterMs, from its cursor", async () => {
    const clients = createNodeClients({ baseUrl: server.baseUrl, token: server.adminToken });
    const account = await createAccount(clients, "stale");
    // Heartbeats come every 200 ms: a stale limit of 100 ms trips after each update.
    const run = runBoard(clients, { account }, { staleAfterMs: HEARTBEAT_MS / 2 });
    try {
      await until("two reconnects", () => run.reconnects.length >= 2, run);
      for (const reconnect of run.reconnects) {
        assert.equal(reconnect.error?.code, Code.DeadlineExceeded);
        assert.ok(reconnect.cursor, "resumes from the cursor, without a second snapshot");
      }
      assert.equal(run.snapshots(), 1);
    } finally {
      run.stop();
    }
    await run.done;
  });

  test("watchSlaStatus() rejects with the error when the request itself is refused", async () => {
    const clients = createWebClients({ baseUrl: server.baseUrl, token: server.adminToken });
    const refused = await watchSlaStatus(clients.tickets, { account: "acme" }, () => {}).then(
      () => assert.fail("an invalid account name was accepted"),
      (err: unknown) => ConnectError.from(err),
    );
    assert.equal(refused.code, Code.InvalidArgument);
  });
});

for (const [name, connect] of transports) {
  describe(`watchSlaStatus() over ${name} through a server restart`, () => {
    let server: TicketdServer;

    before(async () => {
      server = await startTicketd(["--watch-heartbeat-ms", String(HEARTBEAT_MS)]);
    });
    after(async () => {
      await server?.stop();
    });

    test("SERVER_SHUTTING_DOWN, then it resumes from its cursor: each ticket on the board once", async () => {
      const clients = connect(server.baseUrl, { token: server.adminToken });
      const account = await createAccount(clients, "restart");
      const before = await createTicket(clients, account, "In the snapshot");
      const run = runBoard(clients, { account });
      try {
        await until("the snapshot", () => run.snapshots() === 1, run);
        const live = await createTicket(clients, account, "Live");
        await until("the live ticket", () => run.board.tickets.has(live.name), run);
        const cursorBeforeRestart = run.board.cursor;

        await server.restart(500);
        const whileAway = await createTicket(clients, account, "Created while the stream was down");
        await until("the ticket created while down", () => run.board.tickets.has(whileAway.name), run);

        const [shutdown, ...down] = run.reconnects;
        assert.equal(shutdown?.error?.code, Code.Unavailable);
        assert.equal(describeReason(shutdown.error), ErrorReason.SERVER_SHUTTING_DOWN);
        // Then nothing listened for 500 ms: a refused connection is UNKNOWN over fetch, UNAVAILABLE over HTTP/2.
        assert.ok(down.length > 0, "reconnects while the server was down");
        for (const reconnect of down) {
          assert.equal(reconnect.error?.code, name === "gRPC-Web" ? Code.Unknown : Code.Unavailable, reconnect.error?.message);
        }
        assert.ok(shutdown.cursor, "the first reconnect resumes from a cursor");
        assert.ok(
          run.reconnects.every((r) => r.cursor === shutdown.cursor),
          "every reconnect while the server was down kept the cursor",
        );
        assert.ok(cursorBeforeRestart, "the board had a cursor before the restart");
        assert.equal(run.snapshots(), 1, "no second snapshot");
        assert.deepEqual(run.added(), [live.name, whileAway.name], "each event once");
        assert.deepEqual([...run.board.tickets.keys()].sort(), [before.name, live.name, whileAway.name].sort());
      } finally {
        run.stop();
      }
      assert.equal(await run.done, run.board.cursor);
    });
  });
}

function describeReason(error: ConnectError | undefined): string {
  return error?.findDetails(ErrorInfoSchema)[0]?.reason ?? "";
}
