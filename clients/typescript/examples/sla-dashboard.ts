/**
 * An SLA wall feed: the open tickets and where each stands against its
 * response deadline, kept current from WatchSlaStatus. Prints the wall once
 * the snapshot is in, then one line per change and per heartbeat.
 *
 *   node dist/examples/sla-dashboard.js --plan business,pro --state on-track,at-risk,breached
 *
 * It needs a credential that may watch SLA status (role dashboard, agent or
 * admin), from --token or TICKETD_TOKEN. A refused credential stops it:
 * reconnecting cannot fix that.
 *
 * When the stream ends (the server restarts, the connection drops, or the
 * server finds this client too slow) it reconnects with backoff and resumes
 * from the last cursor: no event is missed or shown twice. Ctrl-C stops it and
 * prints the cursor, which `--resume-cursor` takes to carry on without a new
 * snapshot.
 */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import {
  ChannelSchema,
  Code,
  ErrorReason,
  PlanSchema,
  PrioritySchema,
  SlaBoard,
  SlaStateSchema,
  TicketEventKind,
  TicketEventKindSchema,
  TicketStatusSchema,
  describeError,
  formatDuration,
  timestampDate,
  timestampMs,
  watchSlaStatus,
  type SlaBoardChange,
  type SlaWatchFilter,
  type TicketSlaStatus,
} from "../src/index.js";
import { CONNECTION_USAGE, connect, connectionOptions, tokenHint } from "./connect.js";

const USAGE = `usage: sla-dashboard [filters] [options]
  --plan LIST        free, pro, business, education, api (comma-separated; default all)
  --priority LIST    p1, p2, p3, p4
  --channel LIST     web-form, chat, phone
  --state LIST       on-track, at-risk, breached, met, missed
  --account ID       one account's tickets
  --resume-cursor C  carry on after cursor C (printed on exit) instead of starting with a snapshot
  --stale-after-ms N reconnect when nothing, not even a heartbeat, arrives for N ms (default 30000)
${CONNECTION_USAGE}`;

const { values } = parseArgs({
  options: {
    ...connectionOptions,
    plan: { type: "string" },
    priority: { type: "string" },
    channel: { type: "string" },
    state: { type: "string" },
    account: { type: "string" },
    "resume-cursor": { type: "string" },
    "stale-after-ms": { type: "string", default: "30000" },
  },
});

type EnumSchema = { values: readonly { name: string; number: number }[] };

/** `at-risk,breached` → the values named SLA_STATE_AT_RISK and SLA_STATE_BREACHED; `p1` → PRIORITY_P1_URGENT. */
function enumList<T extends number>(schema: EnumSchema, prefix: string, arg: string | undefined): T[] {
  return (arg ?? "")
    .split(",")
    .filter((item) => item.trim())
    .map((item) => {
      const name = `${prefix}_${item.trim().toUpperCase().replaceAll("-", "_")}`;
      const value = schema.values.find((v) => v.name === name || v.name.startsWith(`${name}_`));
      if (!value || value.number === 0) {
        console.error(`unknown value ${item} (${name})\n${USAGE}`);
        process.exit(64);
      }
      return value.number as T;
    });
}

/** The enum value's name without its prefix: `PRIORITY_P2_HIGH` → `P2_HIGH`. */
function short(schema: EnumSchema & { value: Record<number, { name: string } | undefined> }, number: number, prefix: string): string {
  return (schema.value[number]?.name ?? String(number)).replace(`${prefix}_`, "");
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const staleAfterMs = Number(values["stale-after-ms"]);
if (!Number.isInteger(staleAfterMs) || staleAfterMs < 0) {
  console.error(USAGE);
  process.exit(64);
}
const filter: SlaWatchFilter = {
  plans: enumList(PlanSchema, "PLAN", values.plan),
  priorities: enumList(PrioritySchema, "PRIORITY", values.priority),
  channels: enumList(ChannelSchema, "CHANNEL", values.channel),
  slaStates: enumList(SlaStateSchema, "SLA_STATE", values.state),
  account: values.account ? `accounts/${values.account}` : undefined,
};

/** `3h 59m left`, `12m overdue`, or `responded` once the first response stopped the clock. */
function deadline(ticket: TicketSlaStatus): string {
  if (ticket.firstResponseAt || !ticket.responseDueAt) {
    return "responded";
  }
  const ms = timestampMs(ticket.responseDueAt) - Date.now();
  const span = formatDuration(create(DurationSchema, { seconds: BigInt(Math.round(Math.abs(ms) / 1000)) }));
  return ms >= 0 ? `${span} left` : `${span} overdue`;
}

function row(ticket: TicketSlaStatus): string {
  const due = ticket.responseDueAt ? timestampDate(ticket.responseDueAt).toISOString() : "-";
  return [
    `#${ticket.number}`,
    short(PrioritySchema, ticket.priority, "PRIORITY"),
    short(SlaStateSchema, ticket.slaState, "SLA_STATE"),
    `due ${due} (${deadline(ticket)})`,
    ticket.account,
    JSON.stringify(ticket.subject),
  ].join(" ");
}

/** `3 open: 2 on track, 1 at risk`. */
function summary(board: SlaBoard): string {
  const counts = new Map<string, number>();
  for (const ticket of board.tickets.values()) {
    const state = short(SlaStateSchema, ticket.slaState, "SLA_STATE").toLowerCase().replaceAll("_", " ");
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  const parts = [...counts].map(([state, count]) => `${count} ${state}`);
  return `${board.tickets.size} open${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

function show(change: SlaBoardChange, board: SlaBoard): void {
  switch (change.kind) {
    case "snapshot":
      console.log(`snapshot: ${summary(board)}`);
      for (const ticket of board.byDeadline()) {
        console.log(`  ${row(ticket)}`);
      }
      break;
    case "added":
    case "updated":
    case "removed": {
      const mark = { added: "+", updated: "~", removed: "-" }[change.kind];
      const event = change.event;
      let what = short(TicketEventKindSchema, event?.kind ?? 0, "TICKET_EVENT_KIND");
      if (event?.kind === TicketEventKind.STATUS_CHANGED) {
        what += ` ${short(TicketStatusSchema, event.toStatus, "TICKET_STATUS")}`;
      }
      console.log(`${mark} ${what}: ${row(change.ticket)} [${board.tickets.size} open]`);
      break;
    }
    case "heartbeat":
      console.log(`heartbeat ${change.serverTime ? timestampDate(change.serverTime).toISOString() : "-"}: ${summary(board)}`);
      break;
    default:
      // snapshot tickets wait for the snapshot's end; ignored events are off this wall.
      break;
  }
}

const { tickets } = connect(values);
const board = new SlaBoard(filter);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => stop.abort());
}

console.log(`watching SLA status on ${values.addr ?? process.env["TICKETD_ADDR"] ?? "http://127.0.0.1:50051"}`);
try {
  const cursor = await watchSlaStatus(tickets, filter, (update, stream) => show(board.apply(update, stream), board), {
    signal: stop.signal,
    resumeCursor: values["resume-cursor"],
    staleAfterMs,
    onReconnect: ({ error, cursor, delayMs }) => {
      const why = error ? `${Code[error.code]}${describeError(error).reason ? ` ${describeError(error).reason}` : ""}: ${error.rawMessage}` : "closed";
      const from = cursor ? `resuming after ${cursor}` : "starting over with a snapshot";
      console.error(`stream ended (${why}); ${from} in ${delayMs} ms`);
    },
  });
  console.log(cursor ? `stopped; to carry on from here: --resume-cursor ${cursor}` : "stopped before the snapshot was complete");
} catch (err) {
  const details = describeError(err);
  console.error(`error: ${Code[details.code]}: ${details.message}`);
  const hint = tokenHint(details.code);
  if (hint) console.error(hint);
  for (const violation of details.fieldViolations) {
    console.error(`  field ${violation.field}: ${violation.description}`);
  }
  if (details.reason === ErrorReason.SNAPSHOT_TOO_LARGE) {
    console.error(`  more than ${details.metadata["limit"]} open tickets match: narrow the filters`);
  }
  process.exit(1);
}
