import type { Interceptor } from "@connectrpc/connect";

/**
 * A bearer token, or a function that returns the current one (called before
 * every request, so it can refresh). Returning undefined or "" sends no header.
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** Adds `authorization: Bearer <token>` to every request. */
export function bearerAuth(token: TokenSource): Interceptor {
  return (next) => async (req) => {
    const value = typeof token === "string" ? token : await token();
    if (value) {
      req.header.set("authorization", `Bearer ${value}`);
    }
    return next(req);
  };
}

/** Options both transports take. */
export interface TicketdTransportOptions {
  /**
   * Where ticketd listens: `http://127.0.0.1:50051` (plaintext) or
   * `https://ticketd.example.com` (TLS).
   */
  baseUrl: string;
  /**
   * Bearer token sent as `authorization: Bearer <token>` on every call. ticketd
   * requires one on every call but health checks; operators issue it with
   * `ticketd admin credentials issue`. Without it calls fail UNAUTHENTICATED.
   */
  token?: TokenSource;
  /** More interceptors (logging, metadata, retries), run after the token one. */
  interceptors?: Interceptor[];
  /** Deadline for every call, in milliseconds; a call can override it with `timeoutMs`. */
  defaultTimeoutMs?: number;
}

/** The interceptor list for a transport: the token first, then the caller's. */
export function interceptorsFor(options: TicketdTransportOptions): Interceptor[] {
  const interceptors: Interceptor[] = [];
  if (options.token !== undefined) {
    interceptors.push(bearerAuth(options.token));
  }
  interceptors.push(...(options.interceptors ?? []));
  return interceptors;
}
