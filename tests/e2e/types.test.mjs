// The TypeScript declarations shipped in pkg/web type-check a small consumer app
// (tests/e2e/types/consumer.ts) under `tsc --strict --noEmit`: the generated types and the
// hand-written ones (config, error codes, events) are usable as documented, and still reject
// a client secret and an unknown storage mode. A second run uses the compiler options of Vite's
// React + TypeScript template (lib ES2022 + DOM) with skipLibCheck off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

function typeCheck(project) {
  const tsc = path.join(here, "node_modules", ".bin", "tsc");
  const run = spawnSync(tsc, ["-p", path.join(here, "types", project)], { encoding: "utf8", timeout: 120_000 });
  assert.equal(run.status, 0, `tsc -p ${project} failed:\n${run.stdout}${run.stderr}`);
}

test("a TypeScript app type-checks against the shipped declarations", () => {
  typeCheck("tsconfig.json");
});

test("they also compile with the lib of Vite's React template (no esnext) and skipLibCheck off", () => {
  typeCheck("tsconfig.vite.json");
});
