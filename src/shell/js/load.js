// Loading the `.wasm`: the engine's class `Core` (wasm-bindgen's glue, cognito_session_bg.js)
// works once the module is instantiated with that glue's functions and handed back to it.
// scripts/build.sh ships this file as cognito_session_core.js, the module driver.js takes `Core`
// from. Each package entry loads the module its own way: the main entry fetches it from beside
// this file at import (`wasmUrl`, which bundlers rewrite to the file they emit), the Node entry
// reads that file from disk, `cognito-session/web` takes what `init()` is given, the script tag
// the bytes inside it.
//
// Until the module is loaded, and for good when loading failed, the glue holds a stand-in whose
// every use throws a typed error: so `new Session()` throws `LOAD_FAILED` with the reason and the
// fix (or, before `init()` on the web entry, `BAD_CONFIG`), never a TypeError about `undefined`.

import * as glue from './cognito_session_bg.js';
import { cause, error } from './errors.js';

export { Core } from './cognito_session_bg.js';

/** What the `.wasm` imports: the glue's functions, under the module name wasm-bindgen gave it. */
const imports = { './cognito_session_bg.js': glue };

/** Until a module is loaded, every use of the engine throws `failure`. */
export const refuse = (failure) => glue.__wbg_set_wasm(new Proxy({}, { get() { throw failure; } }));

/** The `.wasm` beside this module (bundlers see the pattern and point it at the file they emit). */
export const wasmUrl = () => new URL('./cognito_session_bg.wasm', import.meta.url);

/** Makes `result` (an `Instance`, or `{instance}` as `WebAssembly.instantiate` resolves) the engine. */
function start(result) {
  const { exports } = result.instance ?? result;
  glue.__wbg_set_wasm(exports);
  exports.__wbindgen_start();
}

/** The `LOAD_FAILED` error for `thrown` while loading from `where`, now the engine's stand-in. */
function failed(where, thrown) {
  const failure = error(
    'LOAD_FAILED',
    cause(`could not load ${where} (serve that file; with a Content-Security-Policy, add 'wasm-unsafe-eval' to script-src)`, thrown),
  );
  refuse(failure);
  return failure;
}

/**
 * Instantiates the module from what `source()` gives (or a promise of it): a fetch `Response`
 * (compiled while it downloads when it says `application/wasm`, else from its bytes, as not every
 * server knows the type), the bytes, or a compiled `WebAssembly.Module`. Resolves `undefined`,
 * or the `LOAD_FAILED` error every later `new Session()` throws, naming the response's URL or
 * else `where`; never rejects.
 */
export async function load(source, where) {
  let given;
  try {
    let s = (given = await source());
    if (s instanceof Response) {
      if (!s.ok) throw `HTTP ${s.status}`;
      if (s.headers.get('content-type') !== 'application/wasm') s = await s.arrayBuffer();
    }
    start(await WebAssembly[s instanceof Response ? 'instantiateStreaming' : 'instantiate'](s, imports));
  } catch (e) {
    return failed(given?.url || where, e);
  }
}

/** `load` at once, from the bytes or the compiled module `source()` gives; returns the same. */
export function loadSync(source, where) {
  try {
    const s = source();
    start(new WebAssembly.Instance(s instanceof WebAssembly.Module ? s : new WebAssembly.Module(s), imports));
  } catch (e) {
    return failed(where, e);
  }
}
