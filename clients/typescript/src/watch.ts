/**
 * WatchSlaStatus for dashboards: `watchSlaStatus()` keeps one stream open and
 * resumes it from the last cursor whenever it ends, and `SlaBoard` keeps the
 * open tickets a wall shows. Browser-safe: works over either transport.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { ERROR_DOMAIN, describeError } from "./errors.js";
import type { Channel, Plan, Priority } from "./gen/support/v1/policy_pb.js";
import type { TicketSlaStatus } from "./gen/support/v1/sla_watch_pb.js";
import { SlaState, TicketStatus, type TicketEvent } from "./gen/support/v1/ticket_pb.js";
import type { TicketService, WatchSlaStatusResponse } from "./gen/support/v1/ticket_service_pb.js";
import { timestampNanos } from "./time.js";

/**
 * What to watch (`WatchSlaStatusRequest` without `resume_cursor`). Criteria
 * combine with AND; a missing or empty one matches everything.
 */
export interface SlaWatchFilter {
  /** Only tickets of these plans (as received). */
  plans?: Plan[];
  /** Only tickets with these priorities. */
  priorities?: Priority[];
  /** Only tickets from these channels. */
  channels?: Channel[];
  /** Only tickets of this account, `accounts/{account_id}`. */
  account?: string;
  /** Only tickets in these SLA states. */
  slaStates?: SlaState[];
}

/** One stream of a `watchSlaStatus()` loop; the same object for every update of that stream. */
export interface SlaWatchStream {
  /** 1 for the first stream, 2 for the first reconnect, and so on. */
  readonly number: number;
  /** The cursor it was opened with; "" means it starts with a snapshot. */
  readonly resumeCursor: string;
}

/** Delays between reconnects: `initialMs × multiplier^(n-1)`, at most `maxMs`, spread by ± `jitter`. */
export interface SlaWatchBackoff {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** A fraction, e.g. 0.2 for ± 20 %. */
  jitter: number;
}

export const DEFAULT_WATCH_BACKOFF: Readonly<SlaWatchBackoff> = { initialMs: 250, maxMs: 10_000, multiplier: 2, jitter: 0.2 };

/** What `onReconnect` is told before the loop waits and opens the next stream. */
export interface SlaWatchReconnect {
  /** Why the stream ended; undefined if it ended without a status (the connection closed). */
  error: ConnectError | undefined;
  /** The cursor the next stream resumes from; "" starts over with a snapshot. */
  cursor: string;
  /** How long the loop waits before reconnecting. */
  delayMs: number;
  /** Reconnects since the last stream that delivered an update (1, 2, …). */
  failures: number;
}

export interface WatchSlaStatusOptions {
  /** Stops the loop: the stream is cancelled and the returned promise resolves. */
  signal?: AbortSignal;
  /** Resume from this cursor (e.g. one saved before a restart) instead of starting with a snapshot. */
  resumeCursor?: string;
  backoff?: Partial<SlaWatchBackoff>;
  /**
   * Reconnect when no update (heartbeats included) arrives for this long; 0
   * turns it off. Default 30 s: three of the server's default 10 s heartbeat
   * intervals (`--watch-heartbeat-ms`).
   */
  staleAfterMs?: number;
  /** Called each time a stream ended and the loop is about to reconnect. */
  onReconnect?: (reconnect: SlaWatchReconnect) => void;
}

/**
 * Codes after which calling again with the same request cannot succeed: a
 * bad filter or cursor (INVALID_ARGUMENT), a filter matching too many open
 * tickets (FAILED_PRECONDITION SNAPSHOT_TOO_LARGE), a server without the RPC.
 * Everything else ends a stream for reasons a reconnect fixes: UNAVAILABLE
 * (SERVER_SHUTTING_DOWN, or the server is down), RESOURCE_EXHAUSTED
 * (WATCH_CONSUMER_TOO_SLOW, WATCH_LIMIT_REACHED), and the codes a dropped
 * connection surfaces as (CANCELED over native HTTP/2, UNKNOWN over fetch).
 */
const PERMANENT_CODES: ReadonlySet<Code> = new Set([
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.NotFound,
  Code.AlreadyExists,
  Code.OutOfRange,
  Code.Unimplemented,
  Code.PermissionDenied,
  Code.Unauthenticated,
]);

/**
 * The cursor a ticketd watch error says to resume from (ErrorInfo metadata
 * `resume_cursor`, sent with SERVER_SHUTTING_DOWN and WATCH_CONSUMER_TOO_SLOW);
 * "" when there is none.
 */
export function resumeCursorOf(err: unknown): string {
  const { domain, metadata } = describeError(err);
  return domain === ERROR_DOMAIN ? (metadata["resume_cursor"] ?? "") : "";
}

/**
 * Watches SLA status until `options.signal` aborts, reconnecting whenever a
 * stream ends. Each update goes to `onUpdate` in order, with the stream it came
 * on; the loop reads the next one after `onUpdate` returns (or its promise
 * settles), so a slow consumer slows the stream rather than queueing.
 *
 * The first stream starts with a snapshot (unless `options.resumeCursor`).
 * After that, every reconnect passes the last cursor received (or the newer
 * `resume_cursor` of the error that ended the stream), so no event is missed
 * or repeated; a stream that ended during its snapshot, before any cursor,
 * starts over with a new snapshot. Reconnects back off (`options.backoff`, at
 * least the server's RetryInfo delay).
 *
 * Resolves with the last cursor once aborted. Rejects with the ConnectError
 * when the server refuses the request itself (see `PERMANENT_CODES`: a bad
 * filter or cursor, SNAPSHOT_TOO_LARGE), and with whatever `onUpdate` throws.
 * Calls are made with no deadline, whatever the transport's `defaultTimeoutMs`.
 */
export async function watchSlaStatus(
  tickets: Client<typeof TicketService>,
  filter: SlaWatchFilter,
  onUpdate: (update: WatchSlaStatusResponse, stream: SlaWatchStream) => void | Promise<void>,
  options: WatchSlaStatusOptions = {},
): Promise<string> {
  const { signal } = options;
  const backoff = { ...DEFAULT_WATCH_BACKOFF, ...options.backoff };
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  let cursor = options.resumeCursor ?? "";
  let failures = 0;

  for (let number = 1; !signal?.aborted; number++) {
    const stream: SlaWatchStream = { number, resumeCursor: cursor };
    const call = new AbortController();
    const stop = () => call.abort();
    signal?.addEventListener("abort", stop, { once: true });
    let staleTimer: ReturnType<typeof setTimeout> | undefined;
    const watchForStale = () => {
      if (staleAfterMs > 0) {
        staleTimer = setTimeout(
          () => call.abort(new ConnectError(`no update for ${staleAfterMs} ms`, Code.DeadlineExceeded)),
          staleAfterMs,
        );
      }
    };

    let error: ConnectError | undefined;
    let consumerFailed: { error: unknown } | undefined;
    try {
      watchForStale();
      const updates = tickets.watchSlaStatus({ ...filter, resumeCursor: cursor }, { signal: call.signal, timeoutMs: 0 });
      for await (const update of updates) {
        if (call.signal.aborted) {
          // Stopped or stale: deliver nothing more, whatever the transport still hands over.
          error = ConnectError.from(call.signal.reason);
          break;
        }
        clearTimeout(staleTimer);
        failures = 0;
        try {
          await onUpdate(update, stream);
        } catch (err) {
          consumerFailed = { error: err };
          break; // cancels the call
        }
        if (update.cursor) {
          cursor = update.cursor;
        }
        watchForStale();
      }
    } catch (err) {
      error = ConnectError.from(err);
    } finally {
      clearTimeout(staleTimer);
      signal?.removeEventListener("abort", stop);
    }
    if (consumerFailed) {
      throw consumerFailed.error;
    }
    if (signal?.aborted) {
      break;
    }
    if (error && PERMANENT_CODES.has(error.code)) {
      throw error;
    }
    // The error's resume_cursor is where the server stopped: never behind the
    // last update it sent, and past events a filtered stream was not sent.
    cursor = (error && resumeCursorOf(error)) || cursor;
    failures++;
    const delayMs = backoffDelay(backoff, failures, error && describeError(error).retryDelayMs);
    options.onReconnect?.({ error, cursor, delayMs, failures });
    await sleep(delayMs, signal);
  }
  return cursor;
}

function backoffDelay(backoff: SlaWatchBackoff, failures: number, serverDelayMs: number | undefined): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** (failures - 1));
  const spread = base * (1 + backoff.jitter * (2 * Math.random() - 1));
  return Math.round(Math.max(spread, serverDelayMs ?? 0));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Statuses a ticket is on the wall in: not yet resolved or closed. */
export const OPEN_TICKET_STATUSES: readonly TicketStatus[] = [
  TicketStatus.NEW,
  TicketStatus.ACKNOWLEDGED,
  TicketStatus.IN_PROGRESS,
  TicketStatus.WAITING_ON_CUSTOMER,
];

/** What one update did to an `SlaBoard`. */
export type SlaBoardChange =
  /** A snapshot ticket, held back until `snapshot_end` so the wall never shows half a snapshot. */
  | { kind: "snapshot-ticket"; ticket: TicketSlaStatus }
  /** The snapshot is complete and replaced the board; `tickets` are now on it. */
  | { kind: "snapshot"; tickets: number }
  /**
   * An event: the ticket came onto the board (`added`), changed on it
   * (`updated`), left it (`removed`: resolved, closed, or out of the filter),
   * or is not on it either way (`ignored`).
   */
  | { kind: "added" | "updated" | "removed" | "ignored"; ticket: TicketSlaStatus; event: TicketEvent | undefined }
  | { kind: "heartbeat"; serverTime: Timestamp | undefined }
  /** Nothing to apply: an update kind this client does not know yet (only its cursor counts). */
  | { kind: "none" };

/**
 * The open tickets of a watch, kept from its snapshot and events: what a wall
 * shows. Feed it every update with the stream it came on (`watchSlaStatus`
 * passes both); a stream opened without a cursor starts a fresh snapshot.
 */
export class SlaBoard {
  /** Open tickets matching the filter, by name (`tickets/{uuid}`), as last reported. */
  readonly tickets = new Map<string, TicketSlaStatus>();
  /** The last non-empty cursor received: resume from here. */
  cursor = "";
  /** The server time of the last heartbeat. */
  lastHeartbeat: Timestamp | undefined;
  private pending: Map<string, TicketSlaStatus> | undefined;
  private stream: SlaWatchStream | undefined;

  /** `filter` must be the one the stream was opened with. */
  constructor(readonly filter: SlaWatchFilter = {}) {}

  /** Applies one update and says what it changed. */
  apply(update: WatchSlaStatusResponse, stream: SlaWatchStream): SlaBoardChange {
    if (stream !== this.stream) {
      this.stream = stream;
      // A snapshot that was cut short is discarded with its stream.
      this.pending = stream.resumeCursor === "" ? new Map() : undefined;
    }
    if (update.cursor) {
      this.cursor = update.cursor;
    }
    const { case: kind, value } = update.update;
    switch (kind) {
      case "ticket":
        (this.pending ??= new Map()).set(value.name, value);
        return { kind: "snapshot-ticket", ticket: value };
      case "snapshotEnd": {
        const snapshot = this.pending ?? new Map<string, TicketSlaStatus>();
        this.pending = undefined;
        this.tickets.clear();
        for (const [name, ticket] of snapshot) {
          this.tickets.set(name, ticket);
        }
        return { kind: "snapshot", tickets: this.tickets.size };
      }
      case "event": {
        const { ticket, event } = value;
        if (!ticket) {
          return { kind: "none" };
        }
        const onBoard = this.tickets.has(ticket.name);
        if (this.includes(ticket)) {
          this.tickets.set(ticket.name, ticket);
          return { kind: onBoard ? "updated" : "added", ticket, event };
        }
        this.tickets.delete(ticket.name);
        return { kind: onBoard ? "removed" : "ignored", ticket, event };
      }
      case "heartbeat":
        this.lastHeartbeat = value.serverTime;
        return { kind: "heartbeat", serverTime: value.serverTime };
      default:
        return { kind: "none" };
    }
  }

  /** Whether `ticket`, as it stands now, belongs on this board: open and matching the filter. */
  includes(ticket: TicketSlaStatus): boolean {
    const f = this.filter;
    return (
      OPEN_TICKET_STATUSES.includes(ticket.status) &&
      listed(f.plans, ticket.plan) &&
      listed(f.priorities, ticket.priority) &&
      listed(f.channels, ticket.channel) &&
      listed(f.slaStates, ticket.slaState) &&
      (!f.account || f.account === ticket.account)
    );
  }

  /** The tickets, most urgent first: by response deadline, then number. */
  byDeadline(): TicketSlaStatus[] {
    const due = (t: TicketSlaStatus) => (t.responseDueAt ? timestampNanos(t.responseDueAt) : 0n);
    return [...this.tickets.values()].sort((a, b) =>
      due(a) !== due(b) ? (due(a) < due(b) ? -1 : 1) : a.number < b.number ? -1 : a.number > b.number ? 1 : 0,
    );
  }
}

/** An empty or missing list puts no restriction. */
function listed<T>(list: readonly T[] | undefined, value: T): boolean {
  return !list || list.length === 0 || list.includes(value);
}
