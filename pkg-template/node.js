// The package's entry in Node (package.json's `node` condition: Node itself, server renders,
// Vitest, whatever resolves modules the way Node does): the session of the main entry, with the
// `.wasm` compiled at import from the bytes in node-wasm.js (written by scripts/package.sh), so
// it loads wherever a server bundler puts the code. `fetch`, WebCrypto and timers are Node's own
// (Node 20+). With no `window`, storage "session" and "local" fall back to memory as in a
// browser with storage disabled, saying so with a `storageUnavailable` event.
import { Buffer } from 'node:buffer';
import { loadSync } from './bundler/cognito_session_core.js';
import wasm from './node-wasm.js';

export * from './bundler/cognito_session.js';

const failure = loadSync(() => Buffer.from(wasm, 'base64'), 'node-wasm.js');

/** Resolves at once: the `.wasm` was loaded at import (rejects with `LOAD_FAILED` if it could
 * not be). Kept so that code written for `cognito-session/web` runs unchanged. */
export default async function init() {
  if (failure) throw failure;
}

/** As `init`, at once. */
export function initSync() {
  if (failure) throw failure;
}
