/**
 * A chat bot's hand-off to support: opens a ticket from a chat session and
 * posts the ticket number and the response deadline back into the chat
 * (printed to stdout).
 *
 *   node dist/examples/chat-bot.js --account acme --session chat-42 \
 *     --message "Screen sharing freezes for everyone"
 *
 * It needs the chat platform's credential (role intake, channel chat) from
 * --token or TICKETD_TOKEN.
 *
 * The request_id is derived from the chat session, so a retry (a timeout, a
 * bot restart) returns the ticket already opened instead of a second one.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import {
  Code,
  ErrorReason,
  ImpactScope,
  ImpactScopeSchema,
  PrioritySchema,
  RequestKind,
  RequestKindSchema,
  Workaround,
  WorkaroundSchema,
  channelName,
  describeError,
  formatDuration,
  timestampDate,
} from "../src/index.js";
import { CONNECTION_USAGE, connect, connectionOptions, tokenHint } from "./connect.js";

const USAGE = `usage: chat-bot --account ID --session CHAT_SESSION_ID (--message TEXT | --transcript URL) [options]
  --subject TEXT     one-line summary (default: the start of the message)
  --kind KIND        problem (default), information, assistance, feature, change, prerelease-access
  --scope SCOPE      for a problem: service-down, degraded (default), function-impaired, minimal
  --workaround W     none (default), partial, full
${CONNECTION_USAGE}`;

const { values } = parseArgs({
  options: {
    ...connectionOptions,
    account: { type: "string" },
    session: { type: "string" },
    message: { type: "string" },
    transcript: { type: "string" },
    subject: { type: "string" },
    kind: { type: "string", default: "problem" },
    scope: { type: "string", default: "degraded" },
    workaround: { type: "string", default: "none" },
  },
});

/** `degraded` → the enum value named IMPACT_SCOPE_DEGRADED. */
function enumArg<T extends number>(schema: { values: readonly { name: string; number: number }[] }, prefix: string, arg: string): T {
  const name = `${prefix}_${arg.toUpperCase().replaceAll("-", "_")}`;
  const value = schema.values.find((v) => v.name === name);
  if (!value) {
    console.error(`unknown value ${arg} (${name})\n${USAGE}`);
    process.exit(64);
  }
  return value.number as T;
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.account || !values.session || !(values.message || values.transcript)) {
  console.error(USAGE);
  process.exit(64);
}
const kind = enumArg<RequestKind>(RequestKindSchema, "REQUEST_KIND", values.kind);
const scope = enumArg<ImpactScope>(ImpactScopeSchema, "IMPACT_SCOPE", values.scope);
const workaround = enumArg<Workaround>(WorkaroundSchema, "WORKAROUND", values.workaround);
const subject = values.subject ?? (values.message ?? `Chat ${values.session}`).slice(0, 200);

// One ticket per chat session, however often the bot retries.
const requestId = /^[A-Za-z0-9_.:-]{1,59}$/.test(values.session)
  ? `chat:${values.session}`
  : createHash("sha256").update(values.session).digest("hex");

const { tickets } = connect(values);
try {
  const { ticket } = await tickets.createTicket({
    account: `accounts/${values.account}`,
    origin: {
      case: "chat",
      value: { chatSessionId: values.session, firstMessage: values.message, transcriptUri: values.transcript },
    },
    subject,
    impact: { kind, scope, workaround },
    requestId,
  });
  if (!ticket?.responseDueAt || !ticket.responseTarget) {
    throw new Error("the server returned no ticket deadline");
  }
  const priority = (PrioritySchema.value[ticket.priorityDecision?.priority ?? 0]?.name ?? "")
    .replace(/^PRIORITY_(P\d)_(\w)(\w*)$/, (_, level: string, first: string, rest: string) => `${level} ${first}${rest.toLowerCase()}`);
  console.log(
    `Thanks, I've opened ticket #${ticket.number} for you (priority ${priority}). ` +
      `Our support team will respond by ${timestampDate(ticket.responseDueAt).toISOString()} ` +
      `(within ${formatDuration(ticket.responseTarget)}).`,
  );
} catch (err) {
  const details = describeError(err);
  if (details.reason === ErrorReason.CHANNEL_NOT_IN_PLAN) {
    const channels = details.allowedChannels.map(channelName).join(", ");
    console.log(`Sorry, chat support isn't part of your plan. You can reach us through: ${channels}.`);
    process.exit(2);
  }
  console.error(`error: ${Code[details.code]}: ${details.message}`);
  const hint = tokenHint(details.code);
  if (hint) console.error(hint);
  for (const violation of details.fieldViolations) {
    console.error(`  field ${violation.field}: ${violation.description}`);
  }
  process.exit(1);
}
