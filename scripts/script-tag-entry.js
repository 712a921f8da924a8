// The script-tag build's entry (bundled by scripts/package.sh into one classic script that
// defines the global `CognitoSession`): `cognito-session/web` with the .wasm embedded
// (esbuild's `binary` loader turns the import below into a base64 string decoded to a
// Uint8Array at load time).
//
// The module is compiled synchronously when the script runs, so `new CognitoSession.Session()`
// works on the next line. Chromium refuses a synchronous compile on the main thread above 8 MB
// (RangeError; measured with Chromium 156, our module is about 0.1 MB); if a browser refuses
// it anyway, the compile falls back to the async one and `CognitoSession.ready` resolves when
// it is done. `ready` always exists, so awaiting it first is always safe. When the module cannot
// be compiled at all (a Content-Security-Policy without 'wasm-unsafe-eval'), `ready` rejects and
// `new CognitoSession.Session()` throws, both with the `LOAD_FAILED` error that says so.
import init, { initSync, isSessionError, Session } from 'cognito-session-web-glue';
import wasmBytes from 'cognito-session-web-wasm';

let ready;
try {
  initSync(wasmBytes);
  ready = Promise.resolve();
} catch {
  ready = init(wasmBytes);
}

/** Package version (set at build time). */
const version = __COGNITO_SESSION_VERSION__;

export { Session, isSessionError, ready, version };
