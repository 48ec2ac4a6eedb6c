import { ConnectError, Code } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
  type BadRequest_FieldViolation,
  type ErrorInfo,
} from "./gen/google/rpc/error_details_pb.js";
import { Channel, ChannelSchema } from "./gen/support/v1/policy_pb.js";

/** The `ErrorInfo.domain` of every error ticketd defines. */
export const ERROR_DOMAIN = "ticketd.support.v1";

/**
 * `ErrorInfo.reason` values ticketd sends (the server's list is `reason` in
 * src/api/status.rs); switch on these, not on messages.
 */
export const ErrorReason = {
  /** INVALID_ARGUMENT; the BadRequest names each bad field. */
  INVALID_FIELDS: "INVALID_FIELDS",
  /** NOT_FOUND. */
  RESOURCE_NOT_FOUND: "RESOURCE_NOT_FOUND",
  /** ALREADY_EXISTS for an account id that is taken. */
  RESOURCE_ALREADY_EXISTS: "RESOURCE_ALREADY_EXISTS",
  /** FAILED_PRECONDITION: the plan excludes the channel; see `allowedChannels`. */
  CHANNEL_NOT_IN_PLAN: "CHANNEL_NOT_IN_PLAN",
  /** ALREADY_EXISTS: the request_id was used for a different ticket. */
  REQUEST_ID_REUSED: "REQUEST_ID_REUSED",
  /** FAILED_PRECONDITION: the ticket's (or service request's) status does not allow the change; metadata `current_status`. */
  ILLEGAL_TRANSITION: "ILLEGAL_TRANSITION",
  /** ABORTED: the ticket changed while the request was applied; retry. */
  CONCURRENT_UPDATE: "CONCURRENT_UPDATE",
  /**
   * ABORTED: a policy activation lost a race; metadata `expected_version` and `active_version` (the version
   * activated meanwhile). Review it, do not retry blindly.
   */
  POLICY_VERSION_RACED: "POLICY_VERSION_RACED",
  /** FAILED_PRECONDITION: the survey already has its answer. */
  SURVEY_ALREADY_ANSWERED: "SURVEY_ALREADY_ANSWERED",
  /** FAILED_PRECONDITION: the policy does not offer this professional service; metadata `kind`. */
  SERVICE_NOT_OFFERED: "SERVICE_NOT_OFFERED",
  /** UNAVAILABLE: retry with backoff (`retryDelayMs`). */
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
  /** RESOURCE_EXHAUSTED: a WatchSlaStatus client left its buffer full; resume from metadata `resume_cursor`. */
  WATCH_CONSUMER_TOO_SLOW: "WATCH_CONSUMER_TOO_SLOW",
  /** RESOURCE_EXHAUSTED: the server holds its maximum of watch streams; retry after `retryDelayMs`. */
  WATCH_LIMIT_REACHED: "WATCH_LIMIT_REACHED",
  /** FAILED_PRECONDITION: more open tickets match a watch than one snapshot holds; narrow the filters. */
  SNAPSHOT_TOO_LARGE: "SNAPSHOT_TOO_LARGE",
  /** UNAVAILABLE: the server is stopping; a watch resumes from metadata `resume_cursor`. */
  SERVER_SHUTTING_DOWN: "SERVER_SHUTTING_DOWN",
  /** INTERNAL. */
  INTERNAL: "INTERNAL",
  /** UNAUTHENTICATED: no `authorization: Bearer <token>`, or a token ticketd does not accept (unknown, revoked). */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /**
   * PERMISSION_DENIED: the credential's role lacks metadata `scope` (e.g. `tickets.act`); for CreateTicket on a
   * channel an intake credential may not use, metadata `channel` names it.
   */
  MISSING_SCOPE: "MISSING_SCOPE",
  /**
   * RESOURCE_EXHAUSTED: this credential's rate limit is spent; nothing was done. Retry after `retryDelayMs`
   * (RetryInfo), or the `retry-after` response metadata in whole seconds.
   */
  RATE_LIMITED: "RATE_LIMITED",
  /** UNAVAILABLE: the server has as many calls in flight as it takes; retry after `retryDelayMs`. */
  OVERLOADED: "OVERLOADED",
  /** RESOURCE_EXHAUSTED: this credential has its share of the server's calls in flight (metadata `limit`); retry after `retryDelayMs`. */
  CREDENTIAL_IN_FLIGHT_LIMIT: "CREDENTIAL_IN_FLIGHT_LIMIT",
  /** DEADLINE_EXCEEDED: the deadline passed first (metadata `timeout_ms`); a CreateTicket may still have been written, so retry with the same `requestId`. */
  DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
  /** INVALID_ARGUMENT: the body is not exactly one gRPC message. */
  MALFORMED_REQUEST: "MALFORMED_REQUEST",
  /** OUT_OF_RANGE: the message is over the server's size limit. */
  MESSAGE_TOO_LARGE: "MESSAGE_TOO_LARGE",
  /** INVALID_ARGUMENT (HTTP 415 for content types that are not gRPC): the request is not protobuf. */
  UNSUPPORTED_CONTENT_TYPE: "UNSUPPORTED_CONTENT_TYPE",
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** Everything a ticketd error says, decoded from grpc-status-details-bin. */
export interface TicketdErrorDetails {
  /** The gRPC status code, e.g. `Code.FailedPrecondition`. */
  code: Code;
  /** The server's message, without the `[code]` prefix. */
  message: string;
  /** `ErrorInfo.reason`, e.g. `CHANNEL_NOT_IN_PLAN`; "" if the error has no ErrorInfo (e.g. a transport error). */
  reason: string;
  /** `ErrorInfo.domain`: `ticketd.support.v1` for ticketd's own errors. */
  domain: string;
  /** `ErrorInfo.metadata`. */
  metadata: Record<string, string>;
  /** INVALID_ARGUMENT: one entry per bad field (`BadRequest.field_violations`). */
  fieldViolations: { field: string; description: string }[];
  /** CHANNEL_NOT_IN_PLAN: the channels the account's plan does include. */
  allowedChannels: Channel[];
  /** NOT_FOUND / ALREADY_EXISTS of a resource (`ResourceInfo`). */
  resource?: { type: string; name: string; description: string };
  /** UNAVAILABLE, RATE_LIMITED, WATCH_LIMIT_REACHED: how long to wait before retrying (`RetryInfo`). */
  retryDelayMs?: number;
  /** The ConnectError all of this was read from. */
  error: ConnectError;
}

/** The ErrorInfo of an error, if it has one. */
export function errorInfo(err: unknown): ErrorInfo | undefined {
  return ConnectError.from(err).findDetails(ErrorInfoSchema)[0];
}

/** The field violations of an INVALID_ARGUMENT error (empty for other errors). */
export function fieldViolations(err: unknown): BadRequest_FieldViolation[] {
  return ConnectError.from(err)
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) => badRequest.fieldViolations);
}

/**
 * For a CHANNEL_NOT_IN_PLAN refusal, the channels the plan includes, from the
 * ErrorInfo's `allowed_channels` metadata (`CHANNEL_WEB_FORM,CHANNEL_CHAT`).
 * Undefined for every other error.
 */
export function allowedChannels(err: unknown): Channel[] | undefined {
  const info = errorInfo(err);
  if (info?.domain !== ERROR_DOMAIN || info.reason !== ErrorReason.CHANNEL_NOT_IN_PLAN) {
    return undefined;
  }
  return parseChannels(info.metadata["allowed_channels"] ?? "");
}

/** True when `err` is a ticketd error with this ErrorInfo reason. */
export function hasReason(err: unknown, reason: ErrorReason | string): boolean {
  const info = errorInfo(err);
  return info?.domain === ERROR_DOMAIN && info.reason === reason;
}

/** Decodes everything a ticketd error carries. Accepts any thrown value. */
export function describeError(err: unknown): TicketdErrorDetails {
  const error = ConnectError.from(err);
  const info = error.findDetails(ErrorInfoSchema)[0];
  const resource = error.findDetails(ResourceInfoSchema)[0];
  const retry = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return {
    code: error.code,
    message: error.rawMessage,
    reason: info?.reason ?? "",
    domain: info?.domain ?? "",
    metadata: { ...(info?.metadata ?? {}) },
    fieldViolations: fieldViolations(error).map(({ field, description }) => ({ field, description })),
    allowedChannels: allowedChannels(error) ?? [],
    resource: resource && {
      type: resource.resourceType,
      name: resource.resourceName,
      description: resource.description,
    },
    retryDelayMs: retry && Number(retry.seconds) * 1000 + Math.round(retry.nanos / 1e6),
    error,
  };
}

/** `CHANNEL_WEB_FORM,CHANNEL_CHAT` → `[Channel.WEB_FORM, Channel.CHAT]`; unknown names are dropped. */
export function parseChannels(list: string): Channel[] {
  return list
    .split(",")
    .map((name) => ChannelSchema.values.find((value) => value.name === name.trim())?.number)
    .filter((number): number is Channel => number !== undefined && number !== Channel.UNSPECIFIED);
}

/** The proto name of a channel, e.g. `CHANNEL_CHAT`. */
export function channelName(channel: Channel): string {
  return ChannelSchema.value[channel]?.name ?? String(channel);
}

export { Code, ConnectError };
