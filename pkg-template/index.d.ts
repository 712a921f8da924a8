export * from './bundler/cognito_session.js';
/** The axios request flag `cognitoSession: false` (its augmentation of axios's config comes with it). */
export type { CognitoSessionRequestConfig } from './axios.js';

/**
 * Resolves at once when the `.wasm` is loaded, which importing the package waits for; rejects
 * with the `LOAD_FAILED` error that `new Session()` throws when it could not be loaded. Kept so
 * that `import init, { Session } from "cognito-session"; await init();` works with every entry.
 */
export default function init(): Promise<void>;
