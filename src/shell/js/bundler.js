// The modules' entry (pkg/bundler/cognito_session.js), which the package's main entry (index.js
// for browsers and bundlers, node.js for Node) re-exports after loading the `.wasm` (load.js);
// `Session` is the JS shell.
export { Session } from './session.js';
export { CognitoSessionError, isSessionError } from './errors.js';
