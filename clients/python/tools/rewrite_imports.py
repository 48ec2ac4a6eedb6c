"""Turn protoc's absolute `support.v1` imports into `ticketd_client.support.v1`.

protoc names a generated module after its .proto path, so
`support/v1/ticket.proto` becomes the top-level module `support.v1.ticket_pb2`
and every file that imports it says `from support.v1 import ticket_pb2`. Inside
this package the modules live at `ticketd_client/support/v1/`, so those imports
(and the module names passed to the protobuf builder, which become each
message class's `__module__`) are rewritten. gRPC method paths such as
`/support.v1.TicketService/CreateTicket` and the serialized descriptors are left
alone: they name the proto package, not a Python module.

Usage: python rewrite_imports.py DIR  (rewrites every .py and .pyi under DIR)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PROTO_PACKAGE = "support.v1"
PYTHON_PACKAGE = "ticketd_client.support.v1"

_rules: list[tuple[re.Pattern[str], str]] = [
    # from support.v1 import ticket_pb2 as ...
    (re.compile(r"^from support\.v1 import ", re.MULTILINE), f"from {PYTHON_PACKAGE} import "),
    # import support.v1.ticket_pb2
    (re.compile(r"^import support\.v1\.", re.MULTILINE), f"import {PYTHON_PACKAGE}."),
    # _builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'support.v1.ticket_pb2', _globals)
    (re.compile(r"'support\.v1\.(\w+_pb2)'"), rf"'{PYTHON_PACKAGE}.\1'"),
]

# What must not survive the rewrite: any import of the bare proto package.
_leftover = re.compile(r"^\s*(from|import)\s+support\b", re.MULTILINE)


def rewrite(text: str) -> str:
    for pattern, replacement in _rules:
        text = pattern.sub(replacement, text)
    return text


def main(root: str) -> int:
    files = sorted(p for p in Path(root).rglob("*") if p.suffix in (".py", ".pyi"))
    if not files:
        print(f"rewrite_imports: no generated files under {root}", file=sys.stderr)
        return 1
    bad: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        new = rewrite(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
        if _leftover.search(new):
            bad.append(str(path))
    if bad:
        print("rewrite_imports: absolute `support` imports left in: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
