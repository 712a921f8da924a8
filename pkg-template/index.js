// The bundler entry: the wasm-bindgen `--target bundler` module, which the bundler's WebAssembly
// import instantiates before any of this runs, plus a no-op default `init` so code written for
// `cognito-session/web` (`await init()`) works unchanged here.
export * from './bundler/cognito_session.js';

/** Nothing to do: the bundler already instantiated the module. Resolves at once. */
export default function init() {
  return Promise.resolve();
}
