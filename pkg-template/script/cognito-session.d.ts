// Types for the script-tag build (`<script src="cognito-session.js"></script>`), which defines
// the global `CognitoSession`. Reference them from a page's own checked JS or TS with
// `/// <reference types="cognito-session/script" />`.
import type { Session as SessionClass, isSessionError as isSessionErrorFunction } from '../web/cognito_session.js';

export type * from '../web/cognito_session.js';

declare global {
  /** What the script tag defines. */
  var CognitoSession: {
    /** The session class, as `import { Session } from "cognito-session"` gives it. */
    readonly Session: typeof SessionClass;
    /** Whether an error is one of the session's (see `isSessionError`). */
    readonly isSessionError: typeof isSessionErrorFunction;
    /** Resolves once the embedded module is instantiated: at once where the browser compiles
     * it synchronously (Chromium, for modules under 8 MB), otherwise after an async compile.
     * Awaiting it before `new CognitoSession.Session(...)` is always safe. */
    readonly ready: Promise<void>;
    /** The package version. */
    readonly version: string;
  };
}
