/** ErrorReason lists every reason the server sends: `reason` in src/api/status.rs. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ErrorReason } from "../src/index.js";
import { repoRoot } from "./ticketd-server.js";

test("ErrorReason has every reason of src/api/status.rs, and no other", () => {
  const statusRs = readFileSync(join(repoRoot(), "src", "api", "status.rs"), "utf8");
  const module = /pub mod reason \{([\s\S]*?)\n\}/.exec(statusRs)?.[1];
  assert.ok(module, "no `pub mod reason` in src/api/status.rs");
  const server = [...module.matchAll(/pub const ([A-Z_]+): &str = "([A-Z_]+)";/g)].map((m) => m[2] ?? "");
  assert.ok(server.length > 10, server.join(", "));
  assert.deepEqual(Object.values(ErrorReason).sort(), server.sort());
  for (const [key, value] of Object.entries(ErrorReason)) {
    assert.equal(key, value);
  }
});
