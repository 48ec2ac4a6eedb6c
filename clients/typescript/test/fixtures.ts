/** Checks shared by the native gRPC and the gRPC-Web tests. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  Channel,
  ImpactScope,
  Plan,
  Priority,
  RequestKind,
  Workaround,
  durationNanos,
  timestampNanos,
  type TicketdClients,
} from "../src/index.js";

/** A fresh account id (ids are 3–63 chars of a-z, 0-9 and -, starting with a letter). */
export function accountId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Creates a Pro account and a chat ticket through `clients`, and checks what the
 * server decided: a number, the priority (problem + degraded + no workaround
 * is P2 by rule degraded-partial-or-no-workaround), and that the response is
 * due exactly the Pro/P2 target after receipt.
 */
export async function createAccountAndChatTicket(clients: TicketdClients, prefix: string): Promise<void> {
  const id = accountId(prefix);
  const { account } = await clients.tickets.createAccount({
    accountId: id,
    account: { displayName: "Acme Ltd", plan: Plan.PRO },
  });
  assert.equal(account?.name, `accounts/${id}`);
  assert.equal(account?.plan, Plan.PRO);

  const { policy } = await clients.policy.getPolicy({});
  const target = policy?.responseTargets.find((t) => t.plan === Plan.PRO && t.priority === Priority.P2_HIGH)?.target;
  assert.ok(target, "the policy has a Pro/P2 response target");

  const before = BigInt(Date.now()) * 1_000_000n;
  const { ticket } = await clients.tickets.createTicket({
    account: `accounts/${id}`,
    origin: {
      case: "chat",
      value: { chatSessionId: `chat-${randomUUID()}`, firstMessage: "Screen sharing freezes for everyone" },
    },
    subject: "Screen sharing freezes",
    impact: { kind: RequestKind.PROBLEM, scope: ImpactScope.DEGRADED, workaround: Workaround.NONE },
  });
  const after = BigInt(Date.now()) * 1_000_000n;
  assert.ok(ticket, "CreateTicket returns the ticket");

  assert.match(ticket.name, /^tickets\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(typeof ticket.number, "bigint");
  assert.ok(ticket.number > 0n, `ticket number ${ticket.number} is positive`);
  assert.equal(ticket.account, `accounts/${id}`);
  assert.equal(ticket.plan, Plan.PRO);
  assert.equal(ticket.channel, Channel.CHAT);
  assert.equal(ticket.origin.case, "chat");
  assert.equal(ticket.origin.value?.firstMessage, "Screen sharing freezes for everyone");

  assert.equal(ticket.priorityDecision?.priority, Priority.P2_HIGH);
  assert.equal(ticket.priorityDecision?.ruleId, "degraded-partial-or-no-workaround");
  assert.ok(ticket.priorityDecision?.ruleDescription, "the rule is described");

  assert.ok(ticket.receivedAt && ticket.responseTarget && ticket.responseDueAt, "times are set");
  const received = timestampNanos(ticket.receivedAt);
  const second = 1_000_000_000n;
  assert.ok(received >= before - second && received <= after + second, "received_at is the time of the call");
  assert.equal(durationNanos(ticket.responseTarget), durationNanos(target));
  assert.equal(timestampNanos(ticket.responseDueAt), received + durationNanos(target), "due = received + target");

  // The number is an alias for the ticket.
  const { ticket: byNumber } = await clients.tickets.getTicket({ name: `tickets/${ticket.number}` });
  assert.equal(byNumber?.name, ticket.name);
}
