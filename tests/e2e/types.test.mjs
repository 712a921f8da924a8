// The TypeScript declarations shipped in pkg/web type-check a small consumer app
// (tests/e2e/types/consumer.ts) under `tsc --strict --noEmit`: the generated types and the
// hand-written ones (config, error codes, events) are usable as documented, and still reject
// a client secret and an unknown storage mode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

test("a TypeScript app type-checks against the shipped declarations", () => {
  const tsc = path.join(here, "node_modules", ".bin", "tsc");
  const run = spawnSync(tsc, ["-p", path.join(here, "types")], { encoding: "utf8", timeout: 120_000 });
  assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`);
});
