// The .wasm's memory on first load (issue 11): its linear memory right after instantiation is at
// most 256 KiB, and the deepest inputs the core accepts still run in the stack scripts/build.sh
// gives it (STACK_SIZE), with room to spare. Runs in Node, no browser: each built .wasm
// (pkg/web and pkg/bundler) is instantiated directly, with the wasm-bindgen glue's import
// functions (pkg/bundler/cognito_session_bg.js, the module a bundler pairs with the .wasm), and
// driven through the raw `Core` class that glue exports, as the JS shell drives it.
//
// How the stack is measured: rustc links wasm32 with the stack first, so it is [0, top) with
// `top` the lowest data segment address, and it holds nothing between calls. Before an input the
// test fills it with a canary byte; after, the lowest overwritten byte is how deep that input
// went. (It can read up to a few dozen bytes short: the lowest frame may reserve bytes it never
// writes.) A stack too small for an input makes the stack pointer wrap below 0, and the next
// access traps ("memory access out of bounds"), which fails the test.
//
//   node --test tests/e2e/memory.test.mjs     (after scripts/build.sh; scripts/e2e.sh runs it)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// --- the little of the .wasm's export surface this test uses (Core.call's operations) ----------
// The numbers come from the wire's golden vectors (tests/wire/vectors.json, written by
// tests/wire.rs), so a renumbering cannot leave this test driving the wrong operation.
const WIRE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'wire', 'vectors.json'), 'utf8'));
const opOf = (name) => {
  const vector = WIRE.calls.find((c) => c.call === name);
  if (!vector) throw new Error(`tests/wire/vectors.json has no ${name} call`);
  return vector.raw[0];
};
const OP = {
  /** `a` = what storage holds (a storage record, JSON text). */
  STORAGE: opOf('storage'),
  /** A sign-in answer: `m` = HTTP status, `a` = body. */
  SIGN_IN_ANSWER: opOf('signInAnswer'),
};
const CLIENT_ID = 'memorytestclient';
/** A Cognito session (the `Core` constructor's arguments, see src/shell/exports.rs). */
const newCore = (Core, now) => new Core(CLIENT_ID, 'us-east-1_MemTest01', '', '', '', false, false, '', 1, 2, now);

/** The linear memory a page may have once the module is loaded (the bound). */
const MEMORY_BOUND = 262_144;

// --- the core's input bounds, read from the Rust source so this follows them --------------------
/** `pub const NAME: usize = <product>;`, found once anywhere under src/. */
function rustConst(name) {
  const src = path.join(REPO_ROOT, 'src');
  const pattern = new RegExp(`pub const ${name}: usize = ([0-9_ *]+);`);
  const found = [];
  for (const file of fs.readdirSync(src, { recursive: true })) {
    if (!file.endsWith('.rs')) continue;
    const m = fs.readFileSync(path.join(src, file), 'utf8').match(pattern);
    if (m) found.push(m[1].split('*').reduce((p, f) => p * Number(f.trim().replaceAll('_', '')), 1));
  }
  if (found.length !== 1 || !Number.isSafeInteger(found[0])) {
    throw new Error(`expected one \`pub const ${name}: usize = N;\` under src/, found ${found.length}`);
  }
  return found[0];
}
const MAX_DEPTH = rustConst('MAX_DEPTH'); // json.rs: deepest nesting the JSON reader accepts
const MAX_BODY = rustConst('MAX_BODY'); // the largest provider answer read
const MAX_TOKEN_LEN = rustConst('MAX_TOKEN_LEN'); // jwt.rs: the longest JWT decoded

// --- inputs ------------------------------------------------------------------------------------
const NOW = 1_700_000_000_000;
const EXP = NOW / 1000 + 3600;
const b64url = (text) => Buffer.from(text).toString('base64url');
/** `levels` nested objects around `1`: with the value it sits in, MAX_DEPTH - 1 makes MAX_DEPTH. */
const nested = (levels) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
/** `json` (an object's text) with a member nested `levels` deep added. */
const withNested = (json, levels) => `${json.slice(0, -1)},"deep":${nested(levels)}}`;

/** A JWT whose payload is nested to MAX_DEPTH, padded to exactly MAX_TOKEN_LEN characters. */
function deepJwt(claims) {
  const header = b64url('{"alg":"RS256","kid":"k"}');
  for (let pad = 0; ; pad++) {
    const payload = b64url(withNested(JSON.stringify({ ...claims, pad: 'x'.repeat(pad) }), MAX_DEPTH - 1));
    const base = `${header}.${payload}.`;
    if (base.length + 2 > MAX_TOKEN_LEN) throw new Error('could not make a JWT of MAX_TOKEN_LEN');
    // A signature of k bytes is 2, 3, 4, 6, 7, 8, ... characters: one of them fits exactly.
    for (let k = 1; k <= 6; k++) {
      const token = base + b64url('s'.repeat(k));
      if (token.length === MAX_TOKEN_LEN) return token;
    }
  }
}
const ACCESS = deepJwt({ token_use: 'access', client_id: CLIENT_ID, sub: 'u', exp: EXP, iat: EXP - 3600 });
const ID = deepJwt({ token_use: 'id', aud: CLIENT_ID, sub: 'u', exp: EXP, iat: EXP - 3600 });

/** Input name → [op, HTTP status, text]. */
const INPUTS = {
  // What storage holds (another tab wrote it), nested to MAX_DEPTH around both tokens.
  'a storage record nested to MAX_DEPTH, its JWTs too': [
    OP.STORAGE,
    0,
    withNested(
      JSON.stringify({ v: 1, access: ACCESS, id: ID, refresh: 'r', expiresAt: NOW + 3_000_000, lifetime: 3_600_000, notBefore: 0, failures: 0 }),
      MAX_DEPTH - 1,
    ),
  ],
  'a storage record nested beyond MAX_DEPTH (MAX_BODY of "[")': [OP.STORAGE, 0, '['.repeat(MAX_BODY)],
  // A token response of exactly MAX_BODY bytes, nested to MAX_DEPTH around both tokens.
  'a MAX_BODY sign-in answer nested to MAX_DEPTH, its JWTs too': [
    OP.SIGN_IN_ANSWER,
    200,
    withNested(
      JSON.stringify({ AuthenticationResult: { AccessToken: ACCESS, IdToken: ID, RefreshToken: 'r', ExpiresIn: 3600, TokenType: 'Bearer' } }),
      MAX_DEPTH - 1,
    ).padEnd(MAX_BODY),
  ],
  'a sign-in answer nested beyond MAX_DEPTH (MAX_BODY of "[")': [OP.SIGN_IN_ANSWER, 200, '['.repeat(MAX_BODY)],
};
/** The same path with nothing nested: what the nesting adds is measured against it. */
const SHALLOW = [OP.STORAGE, 0, '{}'];

// --- loading a .wasm ---------------------------------------------------------------------------
/** The lowest address an active data segment writes: the stack's top, as the stack is first. */
function stackTop(bytes) {
  const leb = (pos) => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[pos++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return [value, pos];
  };
  let lowest = Infinity;
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = leb(pos + 1);
    if (id === 11) {
      let [count, p] = leb(start);
      for (let i = 0; i < count; i++) {
        let flags;
        [flags, p] = leb(p);
        if (flags === 2) [, p] = leb(p); // memory index
        if (flags !== 1) {
          // Active: an `i32.const N end` offset (N is non-negative here, so unsigned LEB reads it).
          assert.equal(bytes[p], 0x41, 'a data segment offset that is not i32.const');
          let offset;
          [offset, p] = leb(p + 1);
          assert.equal(bytes[p++], 0x0b, 'a data segment offset that is not a lone i32.const');
          lowest = Math.min(lowest, offset);
        }
        let length;
        [length, p] = leb(p);
        p += length;
      }
    }
    pos = start + size;
  }
  return lowest;
}

let loads = 0;
/** Instantiates pkg/<target>'s .wasm: its memory right after, its stack top and its `Core`. */
async function load(target) {
  const file = path.join(REPO_ROOT, 'pkg', target, 'cognito_session_bg.wasm');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/build.sh`);
  const bytes = fs.readFileSync(file);
  const module = new WebAssembly.Module(bytes);
  // The glue the .wasm imports from (by the module names in its import section), a fresh copy
  // per load: it keeps the instance it drives, and a view of its memory, in module variables.
  const imports = {};
  loads += 1;
  for (const { module: name } of WebAssembly.Module.imports(module)) {
    const url = pathToFileURL(path.join(REPO_ROOT, 'pkg', 'bundler', name));
    imports[name] ??= await import(`${url}?load=${loads}`);
  }
  const glue = Object.values(imports).find((m) => typeof m.Core === 'function' && typeof m.__wbg_set_wasm === 'function');
  assert.ok(glue, "none of the .wasm's import modules is the wasm-bindgen glue with a Core class");
  const { exports } = new WebAssembly.Instance(module, imports);
  glue.__wbg_set_wasm(exports);
  exports.__wbindgen_start?.(); // what the glue runs on load (web: __wbg_finalize_init)
  return { memory: exports.memory, afterInit: exports.memory.buffer.byteLength, top: stackTop(bytes), Core: glue.Core };
}

/** How many bytes of the stack `run` went through (see the file comment). */
function stackUsed({ memory, top }, run) {
  let used = 0;
  for (const canary of [0xa5, 0x5a]) {
    new Uint8Array(memory.buffer, 0, top).fill(canary);
    run();
    const stack = new Uint8Array(memory.buffer, 0, top); // the buffer may have grown
    let low = 0;
    while (low < top && stack[low] === canary) low++;
    used = Math.max(used, top - low);
  }
  return used;
}

/** Sends one input to a fresh session; a trap throws (and leaves the session unfreed). */
function drive({ Core }, [op, status, text]) {
  const core = newCore(Core, NOW);
  // The strings go as one JSON array (`Dispatcher::call_with_texts` in src/wire.rs).
  core.call(op, NOW, 0, status, JSON.stringify([text]));
  core.free();
}

for (const target of ['web', 'bundler']) {
  describe(`pkg/${target}/cognito_session_bg.wasm`, () => {
    test(`its linear memory is at most ${MEMORY_BOUND} B after instantiation and after the first session`, async (t) => {
      const wasm = await load(target);
      t.diagnostic(`after instantiation: ${wasm.afterInit} B; stack: ${wasm.top} B`);
      assert.ok(wasm.afterInit <= MEMORY_BOUND, `${wasm.afterInit} B after instantiation, over ${MEMORY_BOUND} B`);
      const core = newCore(wasm.Core, NOW);
      const afterCore = wasm.memory.buffer.byteLength;
      core.free();
      t.diagnostic(`after the first new Core: ${afterCore} B`);
      assert.ok(afterCore <= MEMORY_BOUND, `${afterCore} B after the first new Core, over ${MEMORY_BOUND} B`);
    });

    test('the deepest inputs run, reach the nesting bound, and use at most half the stack', async (t) => {
      const wasm = await load(target);
      // The layout the measurement relies on: the stack first, below the data.
      assert.ok(wasm.top >= 4096, `the stack ends at ${wasm.top}: is the .wasm still linked with the stack first?`);
      const shallow = stackUsed(wasm, () => drive(wasm, SHALLOW));
      let deepest = 0;
      let deepestName = '';
      for (const [name, input] of Object.entries(INPUTS)) {
        let used;
        try {
          used = stackUsed(wasm, () => drive(wasm, input));
        } catch (e) {
          throw new Error(`${name}: ${e} (a trap here: the stack, ${wasm.top} B, is too small for it)`, { cause: e });
        }
        t.diagnostic(`${name}: ${used} B of stack`);
        if (used > deepest) [deepest, deepestName] = [used, name];
      }
      t.diagnostic(`the same path with nothing nested: ${shallow} B; memory now ${wasm.memory.buffer.byteLength} B`);
      // Each nesting level costs the JSON reader ~125 B of stack (measured): far less than
      // MAX_DEPTH * 32 more than the shallow input means the deep ones never reached the reader.
      assert.ok(
        deepest - shallow >= MAX_DEPTH * 32,
        `the deepest input used ${deepest} B of stack, the shallow one ${shallow} B: did OP go stale?`,
      );
      // Room to spare, so the stack never comes near its far end: half of it, and in any case
      // the first 1 KiB of memory, which wasm-opt --low-memory-unused (scripts/build.sh) assumes
      // nothing reaches.
      assert.ok(
        deepest * 2 <= wasm.top,
        `${deepestName} used ${deepest} B of the ${wasm.top} B stack, more than half: re-measure and resize STACK_SIZE in scripts/build.sh`,
      );
      assert.ok(wasm.top - deepest >= 1024, 'the stack reached into the first 1 KiB of memory');
    });
  });
}
