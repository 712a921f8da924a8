// The package's main entry for browsers and bundlers: the session (./bundler/, the JS shell's
// modules) and, at import, the `.wasm` fetched from beside them. The URL is written as
// `new URL('./cognito_session_bg.wasm', import.meta.url)` (bundler/cognito_session_core.js),
// which Vite, webpack 5 and Parcel turn into the file they emit, with no plugin or setting.
// The import waits for the module (top-level await), so `new Session()` works on the next line
// of the app; when it cannot load (a Content-Security-Policy without 'wasm-unsafe-eval', a 404),
// the import still succeeds and `new Session()` throws `LOAD_FAILED`, saying why and what to do.
// Node (and server renders, Vitest) take ./node.js instead: package.json's `node` condition.
import { load, wasmUrl } from './bundler/cognito_session_core.js';

export * from './bundler/cognito_session.js';

const url = wasmUrl();
const failure = await load(() => fetch(url), url);

/** Resolves once the `.wasm` is loaded (the import already waited for it); rejects with the
 * `LOAD_FAILED` error when it could not be. */
export default async function init() {
  if (failure) throw failure;
}
