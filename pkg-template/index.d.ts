export * from './bundler/cognito_session.js';
/** The axios request flag `cognitoSession: false` (its augmentation of axios's config comes with it). */
export type { CognitoSessionRequestConfig } from './axios.js';

/**
 * Nothing to do with a bundler: the module is instantiated when it is imported. Kept so that
 * `import init, { Session } from "cognito-session"; await init();` works with every entry.
 */
export default function init(): Promise<void>;
