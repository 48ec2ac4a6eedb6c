/**
 * Starts a real ticketd for a test: the binary from TICKETD_BIN, or the repo's
 * target/release/ticketd, or target/debug/ticketd; on a free loopback port with
 * a fresh SQLite database in a temp dir; waits until it answers gRPC; restart()
 * stops it and serves the same database on the same port again; stop() kills
 * it and removes the dir.
 *
 * Before it serves, `ticketd admin credentials issue` issues the CREDENTIALS
 * on that database (the embedded SQLite store takes one process at a time, so
 * not while it serves); `tokens` has them by name.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createNodeClients } from "../src/node.js";

/** The credentials every test server has: name → [role, channels]. */
export const CREDENTIALS = {
  /** Every scope: for setting up and checking. */
  admin: ["admin", ""],
  /** Reads tickets and watches SLA status; no agent actions. */
  dashboard: ["dashboard", ""],
  /** What the chat platform holds: intake, chat tickets only. */
  "chat-platform": ["intake", "chat"],
} as const;
export type CredentialName = keyof typeof CREDENTIALS;

export interface TicketdServer {
  /** `http://127.0.0.1:PORT`. */
  baseUrl: string;
  port: number;
  /** Bearer tokens of the CREDENTIALS issued on this server's database, by name. */
  tokens: Record<CredentialName, string>;
  /** `tokens.admin`. */
  adminToken: string;
  /** Everything the server printed so far. */
  logs(): string;
  /**
   * Stops the server (SIGTERM: open streams end as a shutdown would end them), waits `pauseMs` with nothing
   * listening, and serves the same database on the same port again.
   */
  restart(pauseMs?: number): Promise<void>;
  /** Kills the server (SIGTERM, then SIGKILL) and removes its database. */
  stop(): Promise<void>;
}

/** Thrown when the process exits before it serves; `logs` has its output. */
export class TicketdStartError extends Error {
  constructor(
    message: string,
    readonly logs: string,
  ) {
    super(`${message}\n--- ticketd output ---\n${logs}`);
  }
}

/** The repository root: the first ancestor of this file with Cargo.toml and proto/support/v1. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "Cargo.toml")) && existsSync(join(dir, "proto", "support", "v1"))) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no ticketd repository above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
}

/** The ticketd binary to test against. */
export function ticketdBinary(): string {
  const fromEnv = process.env["TICKETD_BIN"];
  if (fromEnv) {
    const bin = resolve(fromEnv);
    if (!existsSync(bin)) {
      throw new Error(`TICKETD_BIN=${fromEnv}: no such file`);
    }
    return bin;
  }
  const root = repoRoot();
  const candidates = ["release", "debug"].map((profile) => join(root, "target", profile, "ticketd"));
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `no ticketd binary: set TICKETD_BIN or build one (cargo build --release --bin ticketd); looked at ${candidates.join(", ")}`,
    );
  }
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(true);
  }
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/**
 * Issues the CREDENTIALS with `ticketd admin credentials issue --database <database>`, which
 * creates and migrates the database if needed, and returns their tokens (printed alone on stdout).
 */
export function issueCredentials(bin: string, database: string, env: NodeJS.ProcessEnv): Record<CredentialName, string> {
  const tokens = {} as Record<CredentialName, string>;
  for (const [name, [role, channels]] of Object.entries(CREDENTIALS) as [CredentialName, readonly [string, string]][]) {
    const args = ["admin", "credentials", "issue", "--database", database, "--name", name, "--role", role];
    if (channels) args.push("--channels", channels);
    let stdout: string;
    try {
      stdout = execFileSync(bin, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    } catch (err) {
      const { stderr = "" } = err as { stderr?: string };
      throw new Error(`${bin} ${args.join(" ")} failed: ${String(err)}\n${stderr}`);
    }
    const token = stdout.trim();
    if (!token || token.includes("\n")) {
      throw new Error(`${bin} ${args.join(" ")} printed ${JSON.stringify(stdout)}, not one token`);
    }
    tokens[name] = token;
  }
  return tokens;
}

/** Starts ticketd with `serve --listen … --database sqlite://…` plus `extraArgs`. */
export async function startTicketd(extraArgs: string[] = []): Promise<TicketdServer> {
  const bin = ticketdBinary();
  const dir = mkdtempSync(join(tmpdir(), "ticketd-ts-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Only the flags decide the configuration: drop the caller's TICKETD_* and DATABASE_URL.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("TICKETD_") && key !== "DATABASE_URL"),
  );
  const database = `sqlite://${join(dir, "ticketd.db")}`;
  let tokens: Record<CredentialName, string>;
  try {
    tokens = issueCredentials(bin, database, env);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const args = ["serve", "--listen", `127.0.0.1:${port}`, "--database", database, ...extraArgs];
  let output = "";
  let child: ChildProcess;
  let spawnError: Error | undefined;
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const launch = () => {
    spawnError = undefined;
    child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.on("error", (err) => {
      spawnError = err;
    });
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      if (process.env["TEST_LOG"]) process.stderr.write(chunk);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
  };

  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await waitForExit(child, 10_000))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
      }
    }
  };

  let stopped = false;
  const stop = async () => {
    stopped = true;
    process.removeListener("exit", killOnExit);
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when a real RPC answers.
  const waitUntilServing = async () => {
    const { policy } = createNodeClients({ baseUrl, defaultTimeoutMs: 1_000, token: tokens.admin });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (spawnError) {
        await stop();
        throw new TicketdStartError(`cannot run ${bin}: ${spawnError.message}`, output);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        await stop();
        throw new TicketdStartError(
          `ticketd exited (${child.exitCode ?? child.signalCode}) before serving: ${bin} ${args.join(" ")}`,
          output,
        );
      }
      try {
        await policy.getPolicy({});
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          await stop();
          throw new TicketdStartError(`ticketd did not serve on ${baseUrl} within 30 s: ${String(err)}`, output);
        }
        await sleep(100);
      }
    }
  };

  const restart = async (pauseMs = 0) => {
    await halt();
    await sleep(pauseMs);
    if (stopped) {
      throw new Error("restart() after stop()");
    }
    launch();
    await waitUntilServing();
  };

  launch();
  await waitUntilServing();
  return { baseUrl, port, tokens, adminToken: tokens.admin, logs: () => output, restart, stop };
}
