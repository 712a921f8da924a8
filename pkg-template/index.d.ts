export * from './bundler/cognito_session.js';

/**
 * Nothing to do with a bundler: the module is instantiated when it is imported. Kept so that
 * `import init, { Session } from "cognito-session"; await init();` works with every entry.
 */
export default function init(): Promise<void>;
