// The package entry for plain ES modules in a page (`cognito-session/web`, bundled into one
// module by scripts/build.sh): `await init()` (or `initSync(bytes)`) loads the `.wasm` before the
// first `new Session(...)`; `Session` is the JS shell. Before that, `new Session()` throws
// `BAD_CONFIG` saying so; after a failed load, `LOAD_FAILED` saying why (load.js).
import { load, loadSync, refuse, wasmUrl } from './cognito_session_core.js';
import { badConfig } from './errors.js';

export { Session } from './session.js';
export { CognitoSessionError, isSessionError } from './errors.js';

refuse(badConfig('the WebAssembly module is not loaded yet: await init() (or call initSync) before new Session()'));

/** The promise of the load under way or done (a failed one is forgotten, so init() can retry). */
let loading;

/** `{module_or_path: x}` or `{module: x}` as wasm-bindgen's `init` and `initSync` take it, or `x`. */
const unwrap = (input, key) => (input?.constructor === Object ? input[key] : input);

/**
 * Loads the `.wasm` from `cognito_session_bg.wasm` beside this module, or from what it is
 * given: a URL (or its text), a `Request`, a `Response` or a promise of one, the bytes, or a
 * compiled `WebAssembly.Module`. Once loaded, later calls resolve at once. Rejects with
 * `LOAD_FAILED` (the reason and the fix in its message).
 */
export default function init(input) {
  loading ??= load(async () => {
    const source = (await unwrap(input, 'module_or_path')) ?? wasmUrl();
    return typeof source === 'string' || source instanceof URL || source instanceof Request ? fetch(source) : source;
  }, 'the WebAssembly module').then((failure) => {
    if (failure) {
      loading = undefined;
      throw failure;
    }
  });
  return loading;
}

/** Loads the `.wasm` at once from its bytes or a compiled module (`{module}` or either one). */
export function initSync(input) {
  const failure = loading ? undefined : loadSync(() => unwrap(input, 'module'), 'the WebAssembly module');
  if (failure) throw failure;
  loading = Promise.resolve();
}
