// The package entry for plain ES modules in a page: `await init()` (or `initSync({module})`)
// loads the `.wasm` before the first `new Session(...)`; `Session` is the JS shell.
export { default, initSync } from './cognito_session_core.js';
export { Session } from './session.js';
export { CognitoSessionError, isSessionError } from './errors.js';
