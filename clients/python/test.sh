#!/usr/bin/env bash
# Installs this package and the pinned test dependencies (requirements/test.txt)
# into a virtualenv (.venv beside this script, or $TICKETD_TEST_VENV; remade
# when the pins change) and runs pytest against a live ticketd. Extra arguments
# go to pytest, e.g. `bash test.sh -k refused -x`.
#
# Needs the ticketd binary already built: $TICKETD_BIN, else
# <repo>/target/release/ticketd, else <repo>/target/debug/ticketd. Each test
# gets a fresh temporary SQLite database; with TICKETD_TEST_DATABASE=postgres,
# a fresh PostgreSQL database on 127.0.0.1:5432 (user postgres, no password).
# Exits non-zero when a test fails; pytest's summary is the last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${TICKETD_TEST_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
pip_flags=(--quiet --disable-pip-version-check --require-virtualenv)

stamp="$(cd "$here" && sha256sum requirements/test.txt | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$stamp" ]]; then
  echo "test.sh: creating $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install "${pip_flags[@]}" -r "$here/requirements/test.txt"
  echo "$stamp" >"$venv/.requirements.sha256"
fi

# The package itself, built from this folder as a user would install it; its
# dependencies resolve to the pins above (--no-deps would hide a bad range).
"$venv/bin/python" -m pip install "${pip_flags[@]}" --force-reinstall --no-cache-dir \
  -r "$here/requirements/test.txt" "$here" >/dev/null
rm -rf "$here/build" "$here/src/"*.egg-info

# A relative TICKETD_BIN means relative to where this script was called from.
if [[ -n "${TICKETD_BIN:-}" && "$TICKETD_BIN" != /* ]]; then
  export TICKETD_BIN="$PWD/$TICKETD_BIN"
fi

cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
