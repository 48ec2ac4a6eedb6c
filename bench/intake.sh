#!/usr/bin/env bash
# The intake benchmark in one command: pgbench running CreateTicket's SQL
# (bench/create_ticket.pgbench) and CreateTicket through ticketd, interleaved
# on one fresh database that ticketd migrates, plus the no-database transport
# ceiling, an open-loop run at half the peak, memory and start-up time.
# Prints a Markdown report (BENCHMARKS.md records one) and keeps a copy.
#
#   bench/intake.sh                      # 3 rounds × 10 s cells, about 5 minutes when the machine is quiet
#   bench/intake.sh --rounds 1 --seconds 5 --open-loop-seconds 10
#
# Flags go to benches/intake (see the top of benches/intake/main.rs).
# BENCH_DATABASE_URL names the PostgreSQL server (default
# postgres://postgres@127.0.0.1:5432); PGBENCH names pgbench if it is not on
# PATH; TICKETD_BIN runs another ticketd binary than the one cargo builds.
set -euo pipefail
cd "$(dirname "$0")/.."

url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
if [[ -z ${PGBENCH:-} ]] && ! command -v pgbench >/dev/null; then
    for candidate in /usr/lib/postgresql/*/bin/pgbench; do
        [[ -x $candidate ]] && export PGBENCH=$candidate
    done
fi
if [[ -z ${PGBENCH:-} ]] && ! command -v pgbench >/dev/null; then
    echo "pgbench not found: install PostgreSQL's client tools or set PGBENCH" >&2
    exit 1
fi
if ! psql "$url/postgres" -qAtc 'SELECT 1' >/dev/null; then
    echo "PostgreSQL does not answer at $url (set BENCH_DATABASE_URL)" >&2
    exit 1
fi

out=${BENCH_OUTPUT:-${CARGO_TARGET_DIR:-target}/intake-bench.md}
mkdir -p "$(dirname "$out")"
# cargo builds everything before the run starts, so no compile overlaps a
# measurement.
BENCH_COMMAND="bench/intake.sh $*" cargo bench --locked --bench intake -- "$@" | tee "$out"
echo "report written to $out" >&2
