#!/usr/bin/env bash
# Installs the pinned dependencies, builds, and runs the tests against a live
# ticketd (TICKETD_BIN, else ../../target/release/ticketd, else
# ../../target/debug/ticketd; build it first). Exits non-zero on any failure.
# Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

npm ci --no-audit --no-fund --ignore-scripts
npm run build
node --test --test-concurrency=1 dist/test/*.test.js
