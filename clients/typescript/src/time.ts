import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";

export { timestampDate, timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";

/** A Timestamp as nanoseconds since the epoch, exact (ticketd times are to the microsecond). */
export function timestampNanos(ts: Timestamp): bigint {
  return ts.seconds * 1_000_000_000n + BigInt(ts.nanos);
}

/** A Duration as nanoseconds, exact. */
export function durationNanos(d: Duration): bigint {
  return d.seconds * 1_000_000_000n + BigInt(d.nanos);
}

/** A Duration in readable form: `4h`, `1h 30m`, `45s`. */
export function formatDuration(d: Duration): string {
  let seconds = Number(d.seconds);
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || d.nanos > 0 || parts.length === 0) {
    parts.push(`${seconds + d.nanos / 1e9}s`);
  }
  return parts.join(" ");
}
