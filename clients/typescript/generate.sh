#!/usr/bin/env bash
# Regenerates src/gen/ from the ticketd contract (../../proto, package
# support.v1) and proto/ (the google.rpc error details), with buf and
# protoc-gen-es at the versions pinned in package-lock.json. Deterministic: a
# second run changes nothing, so CI can run it and fail on `git diff`.
# Works from any directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# The versions package-lock.json pins, and the installed ones (if any).
pinned() { node -e 'const l=require("./package-lock.json");console.log(l.packages["node_modules/"+process.argv[1]].version)' "$1"; }
installed() { node -e 'try{console.log(require("./node_modules/"+process.argv[1]+"/package.json").version)}catch{}' "$1"; }
for tool in @bufbuild/buf @bufbuild/protoc-gen-es @bufbuild/protobuf; do
  if [ "$(installed "$tool")" != "$(pinned "$tool")" ]; then
    echo "generate.sh: $tool is not installed at $(pinned "$tool"); running npm ci" >&2
    npm ci --no-audit --no-fund --ignore-scripts >&2
    break
  fi
done

PATH="$PWD/node_modules/.bin:$PATH" buf generate
