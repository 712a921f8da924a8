// The package entry for bundlers (webpack, vite, rollup): the wasm-bindgen glue loads the
// `.wasm` through the bundler's own wasm import; `Session` is the JS shell.
export { Session } from './session.js';
export { CognitoSessionError, isSessionError } from './errors.js';
