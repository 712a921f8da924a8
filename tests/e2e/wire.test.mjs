// The wire contract, JavaScript half: replays the golden vectors that the native test
// tests/wire.rs writes from the Rust encoders (tests/wire/vectors.json) through the shell's
// src/shell/js/wire.js. Every reply must decode to the object the Rust test states, and every
// operation must put its arguments where the engine reads them. Runs in node: wire.js needs
// no browser and no .wasm.
//
//   node --test tests/e2e/wire.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import * as wire from '../../src/shell/js/wire.js';

const vectors = JSON.parse(fs.readFileSync(new URL('../wire/vectors.json', import.meta.url), 'utf8'));

/** The app's Error as the plain fields the vectors state. */
function plain(e) {
  assert.ok(e instanceof Error, 'an error field decodes to an Error');
  const out = { code: e.code, message: e.message };
  if (e.retryAt !== undefined) out.retryAt = e.retryAt;
  if (e.providerCode !== undefined) out.providerCode = e.providerCode;
  return out;
}

describe('replies from the engine', () => {
  test('the vectors cover every tag of the shapes table', () => {
    const used = new Set(vectors.replies.map((r) => JSON.parse(r.text)[0]));
    for (const [tag] of vectors.shapes) assert.ok(used.has(tag), `no vector for tag ${tag}`);
    assert.ok(vectors.replies.length >= vectors.shapes.length);
  });

  for (const r of vectors.replies) {
    test(`${r.name} decodes to what the engine's test states`, () => {
      const got = wire.decode(r.text);
      if (got.error !== undefined) got.error = plain(got.error);
      assert.deepEqual(got, r.decoded);
    });
  }

  test('nothing to say stays undefined', () => {
    assert.equal(wire.decode(undefined), undefined);
  });

  test('a tag this shell does not know is a typed error, not a guess', () => {
    assert.throws(() => wire.decode('["Z",1]'), (e) => e.code === 'BAD_RESPONSE' && /unknown reply tag Z/.test(e.message));
  });

  test('an operation that answers nothing throws the error reply of a refused call', () => {
    const core = { call: () => '["e",["BAD_CONFIG","wire: an argument is missing or malformed",null,null]]' };
    assert.throws(() => wire.timeout(core, 1), (e) => e.code === 'BAD_CONFIG' && /argument/.test(e.message));
  });
});

describe('operations to the engine', () => {
  test('the vectors cover every operation wire.js exports', () => {
    const covered = new Set(vectors.calls.map((c) => c.call));
    const exported = Object.keys(wire).filter((name) => name !== 'decode');
    for (const name of exported) assert.ok(covered.has(name), `no vector for ${name}`);
    for (const name of covered) assert.ok(exported.includes(name), `wire.js lacks ${name}`);
  });

  for (const c of vectors.calls) {
    test(`${c.call}(${JSON.stringify(c.inputs).slice(1, -1)}) passes ${JSON.stringify(c.raw)}`, () => {
      const recorded = [];
      const core = {
        call: (...args) => {
          recorded.push(args);
          return undefined;
        },
      };
      try {
        wire[c.call](core, ...c.inputs);
      } catch {
        // Some operations read their reply; an empty one is beside the point here.
      }
      assert.equal(recorded.length, 1, 'one call into the engine');
      // `core.call(op, now, n, m, texts)`: the strings travel as one JSON array.
      const [op, now, n, m, texts, ...extra] = recorded[0];
      assert.deepEqual(extra, [], 'five arguments at most');
      const strings = texts === undefined ? [] : JSON.parse(texts);
      assert.ok(Array.isArray(strings) && strings.length <= 4, `texts: ${texts}`);
      const args = [op, now, n, m, ...strings];
      while (args.length < 8) args.push(undefined);
      assert.deepEqual(
        args.map((a) => (a === undefined ? null : a)),
        c.raw,
      );
    });
  }
});
