// Types for cognito-session/react: hooks over a Session for React 18 and 19 (react is an
// optional peer dependency; these types need @types/react).

import type { ReactElement, ReactNode } from "react";
import type { Session, SessionError, SessionSnapshot } from "./index.js";

/** What the hooks use of a session: the package's `Session` fits (so does a test's stand-in). */
export type ReactSession = Pick<Session, "subscribe" | "getSnapshot" | "claims" | "getAccessToken">;

/** What `useSession` returns: the snapshot's fields and the claims, frozen. */
export type SessionState<C extends object = Record<string, unknown>> = SessionSnapshot & {
    /** The ID token's claims (the access token's when there is none), unverified, for display
     * and routing; `null` when signed out, on the server and while hydrating. */
    readonly claims: Readonly<C> | null;
};

/** What `useAccessToken` returns, frozen; `status` tells which. */
export type AccessTokenState =
| { readonly status: "loading"; readonly token?: undefined; readonly error?: undefined }
| { readonly status: "ready"; readonly token: string; readonly error?: undefined }
| { readonly status: "error"; readonly token?: undefined; readonly error: SessionError };

/**
 * The session's snapshot (`signedIn`, `expiresAt`, `refreshing`, `retryAt`, `expired`) and its
 * `claims`, named by `C`: `useSession<{ email: string }>(session).claims?.email`. Re-renders when
 * the snapshot changes (sign-in, refresh, sign-out, backoff). Without `session`, the nearest
 * `SessionProvider`'s; `BAD_CONFIG` is thrown when there is none. Signed out on the server and
 * while hydrating (the tokens are in the browser), then the browser's snapshot.
 */
export function useSession<C extends object = Record<string, unknown>>(session?: ReactSession): SessionState<C>;

/**
 * An access token for rendering (a URL, a socket): `{status: "loading"}`, then
 * `{status: "ready", token}` or `{status: "error", error}` with the session's typed error
 * (`error.code`). It follows the snapshot: a refresh brings the new token (the old one, still
 * valid, shows until it is there), a sign-out or a sign-in drops it at once, and it is never a
 * token the session would no longer hand out (one valid for less than 30 s). After an error it
 * asks again when the snapshot changes or at the error's `retryAt`. For a request made in an
 * event handler or effect, call `session.getAccessToken()` (or `session.fetch`) there instead.
 * `loading` on the server and while hydrating.
 */
export function useAccessToken(session?: ReactSession): AccessTokenState;

/** Makes `session` the one the hooks below it use when they are called without one. */
export function SessionProvider(props: { session: ReactSession; children?: ReactNode }): ReactElement;

/**
 * The nearest `SessionProvider`'s session; throws a `BAD_CONFIG` error when there is none. Typed
 * as the package's `Session`; name another type when the provider holds a stand-in.
 */
export function useSessionContext<S extends ReactSession = Session>(): S;
