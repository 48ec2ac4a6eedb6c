#!/usr/bin/env bash
# Regenerates every client from proto/ with pinned tools. The generated code
# is committed, so teams need no protobuf tooling; CI runs this and fails if
# anything changed. Works from any directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/python/generate.sh"
bash "$here/typescript/generate.sh"
