// The TypeScript declarations of the public API (cognito_session.js). Hand-written: the JS shell
// in src/shell/js is plain JavaScript; scripts/build.sh ships this file as cognito_session.d.ts
// (with web-init.d.ts appended for pkg/web).

/** What `error.code` holds on every error the session throws or rejects with. */
export type SessionErrorCode =
| "THROTTLED"        // the provider is throttling refreshes; see retryAt
| "UNAVAILABLE"      // provider or network failing, or the deadline passed; retryAt if known
| "SESSION_EXPIRED"  // the refresh token is dead: sign in again
| "NOT_SIGNED_IN"    // nobody is signed in (or sign-in credentials were refused)
| "BAD_CONFIG"       // a bug or misconfiguration in the app
| "BAD_RESPONSE"     // the provider's answer was unusable
| "LOAD_FAILED";     // new Session(): the .wasm could not be loaded (a 404, a CSP); the message says how to fix it

interface SessionErrorOf<C extends SessionErrorCode> extends Error {
    code: C;
    /** The provider's own error name (sign-in errors), e.g. "NotAuthorizedException". */
    providerCode?: string;
}

/**
 * Every error the session throws or rejects with: an `Error` whose `code` says what the app
 * does; switching on `code` narrows it. Only THROTTLED and UNAVAILABLE carry `retryAt`.
 */
export type SessionError =
| (SessionErrorOf<"THROTTLED" | "UNAVAILABLE"> & {
    /** When trying again can help, in ms since the epoch, if the session knows. */
    retryAt?: number;
})
| (SessionErrorOf<"SESSION_EXPIRED" | "NOT_SIGNED_IN" | "BAD_CONFIG" | "BAD_RESPONSE" | "LOAD_FAILED"> & {
    retryAt?: undefined;
});

/** The class of every error the session throws or rejects with (see `SessionError`). */
export declare class CognitoSessionError extends Error {
    code: SessionErrorCode;
    retryAt?: number;
    providerCode?: string;
}

/**
 * Whether `e` is one of the session's errors: then `e.code` is a `SessionErrorCode`. Axios's
 * and fetch's own errors are not, although axios's carry a string `code` too. Works across two
 * copies of the package in one page.
 */
export declare function isSessionError(e: unknown): e is SessionError;

declare global {
    /**
     * `Symbol.dispose` (lib `esnext.disposable`), declared here as well so that these types
     * compile under older `lib` settings (Vite's template: ES2020/ES2022 + DOM) with
     * `skipLibCheck: false`; the declaration merges with TypeScript's own where it exists.
     */
    interface SymbolConstructor {
        readonly dispose: unique symbol;
    }
}

export type LoginReason = "refreshTokenDead" | "noRefreshToken" | "expiredElsewhere";

export interface SessionConfig {
    /** Cognito user pool id, e.g. "us-east-1_AbC123" (the region is read from it). */
    userPoolId?: string;
    /** The app client id (a public client: no secret). */
    clientId: string;
    /** Must match the region in userPoolId when given. */
    region?: string;
    /** Cognito API endpoint override (emulator, proxy). */
    endpoint?: string;
    /** OAuth2 / OIDC token endpoint: use the refresh_token grant instead of the Cognito API. */
    tokenEndpoint?: string;
    /** With tokenEndpoint: the provider's issuer identifier, exactly; ID tokens (and JWT access
     * tokens) that do not name it in `iss` are refused. With endpoint (Cognito mode): an
     * emulator's own issuer instead of the pool's. */
    issuer?: string;
    /** Cognito app clients with refresh-token rotation: refresh with GetTokensFromRefreshToken. */
    rotation?: boolean;
    /** Check every JWT's signature with WebCrypto before handing it out (default true where the
     * keys can be found: the pool's JWKS, `jwksUri`, or the `issuer`'s discovery document). The
     * key set must be served with CORS. */
    verifyTokens?: boolean;
    /** The JWKS URL instead of the pool's or the issuer's discovery document's. */
    jwksUri?: string;
    /** The provider's authorization endpoint (with tokenEndpoint): enables `signIn()` and
     * `handleRedirect()`, e.g. Cognito's `https://<domain>/oauth2/authorize`. */
    authorizationEndpoint?: string;
    /** Where the provider sends the browser back (registered with the provider): absolute
     * http(s) URL; default: the page's origin and path at `signIn()`. */
    redirectUri?: string;
    /** The scopes `signIn()` asks for, space-separated; default "openid". Providers that issue
     * refresh tokens only on request want "openid offline_access". */
    scope?: string;
    /** "session" (default): survives reloads, one tab. "local": shared by all tabs, which
     * coordinate refreshes; readable by any script on the origin. "memory": gone on reload. */
    storage?: "session" | "local" | "memory";
    /** Where to send the browser when the session expires (unless onLoginRequired is given). */
    loginUrl?: string;
    /** Called once when the user must sign in again. */
    onLoginRequired?: (reason: LoginReason) => void;
    /** Origins besides the page's own that Session.fetch (and the axios adapter) attach the
     * token to, each exactly `scheme://host[:port]`. See `Session.attachesTokenTo`. */
    allowedOrigins?: string[];
    /** With tokenEndpoint: the provider's token revocation endpoint (RFC 7009), for
     * `signOut({ revoke: true })` (Cognito's API revokes with RevokeToken and needs none). */
    revocationEndpoint?: string;
    /** The OpenID Connect provider's `end_session_endpoint`, for `signOut({ redirect: true })`:
     * it gets `id_token_hint`, `post_logout_redirect_uri` and `client_id`. */
    endSessionEndpoint?: string;
    /** Cognito managed login's logout endpoint, `https://<domain>/logout`, for
     * `signOut({ redirect: true })`: it gets `client_id` and `logout_uri` (postLogoutRedirectUri,
     * required). */
    logoutEndpoint?: string;
    /** Where the logout page sends the browser back, registered with the provider (Cognito: an
     * allowed sign-out URL). */
    postLogoutRedirectUri?: string;
    /** Refused: a client secret must never reach a browser. */
    clientSecret?: never;
    /**
     * Takes over, once, the session another library left in this page's storage when this
     * session's own storage holds none: `fromAmplify()`, `fromCognitoIdentityJs()` or
     * `fromOidcClientTs({ authority })` from `cognito-session/adopt`. Callers of
     * `getAccessToken` wait for it; an `adopted` or `adoptionRefused` event says how it went.
     */
    adopt?: Adopter;
}

/** The libraries `cognito-session/adopt` takes a session over from, as events name them. */
export type AdoptionSource = "amplify" | "cognito-identity-js" | "oidc-client-ts";

/** What `cognito-session/adopt` makes for `SessionConfig.adopt`; the session calls it itself. */
export interface Adopter {
    (...internal: never[]): void;
    readonly source: AdoptionSource;
}

export type SessionEvent =
| { type: "signedIn"; expiresAt: number }
| { type: "refreshed"; expiresAt: number }
| { type: "throttled"; retryAt: number }
| { type: "retryScheduled"; retryAt: number }
| { type: "expired"; reason: LoginReason }
| { type: "signedOut" }
| { type: "storageDiscarded"; detail: string }
| { type: "storageUnavailable"; detail: string }
/** Tokens from storage, another tab, `setTokens` or `adopt` failed their signature check: they
 * are never handed out; the refresh token gets new ones (without one, the session signs out). */
| { type: "tokenRejected"; detail: string }
/** Once per origin: a request to `origin` left without the token because it is neither the
 * page's origin nor in `allowedOrigins` (also said once with `console.warn`). */
| { type: "tokenWithheld"; origin: string }
/** `adopt` took over the other library's session (after this session's `signedIn`). */
| { type: "adopted"; from: AdoptionSource }
/** `adopt` found a record it could not take over (unreadable, or tokens the session refuses,
 * such as another app client's): it is left where it was. */
| { type: "adoptionRefused"; from: AdoptionSource; detail: string }
| { type: "change" };

export interface SessionSnapshot {
    readonly signedIn: boolean;
    readonly expiresAt: number | null;
    readonly refreshing: boolean;
    readonly retryAt: number | null;
    readonly expired: boolean;
    /** Whether token signatures are checked (`verifyTokens`, and keys to check them with). */
    readonly verifyTokens: boolean;
}

export interface TokenOptions {
    /** How long the caller waits at most, in ms (default 10000). */
    deadlineMs?: number;
}

export interface Tokens {
    accessToken: string;
    idToken?: string;
    refreshToken?: string;
    /** Seconds the access token stays valid: needed only for opaque (non-JWT) OAuth2 tokens. */
    expiresIn?: number;
}

/**
 * The answer each Cognito challenge that `respondToChallenge` answers takes, by challenge name.
 * `NEW_PASSWORD_REQUIRED`'s `attributes` set user attributes (without the `userAttributes.`
 * prefix: `{ name: "Alice" }`), such as those the challenge's `requiredAttributes` parameter
 * lists. `PASSWORD_VERIFIER` is answered by the SRP entry.
 */
export interface ChallengeAnswers {
    NEW_PASSWORD_REQUIRED: { newPassword: string; attributes?: Record<string, string> };
    SOFTWARE_TOKEN_MFA: { code: string };
    SMS_MFA: { code: string };
    EMAIL_OTP: { code: string };
    SELECT_MFA_TYPE: { mfaType: "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP" };
    PASSWORD_VERIFIER: { passwordClaim: { signature: string; secretBlock: string; timestamp: string } };
}

/** The challenges `respondToChallenge` answers. */
export type AnswerableChallengeName = keyof ChallengeAnswers;

/** Every challenge name in Cognito's API model (`ChallengeNameType`). */
export type ChallengeName =
| AnswerableChallengeName
| "MFA_SETUP" | "SELECT_CHALLENGE" | "SMS_OTP" | "PASSWORD" | "PASSWORD_SRP" | "WEB_AUTHN"
| "CUSTOM_CHALLENGE" | "DEVICE_SRP_AUTH" | "DEVICE_PASSWORD_VERIFIER" | "ADMIN_NO_SRP_AUTH";

/**
 * A step Cognito asks for before it hands out tokens, as a sign-in step resolves with it: pass
 * it back to `respondToChallenge` unchanged. A union discriminated by `challengeName`: once the
 * app has checked the name, TypeScript holds the answer to that challenge's shape.
 */
export type Challenge = { [N in ChallengeName]: {
    status: "challenge";
    challengeName: N;
    /** Cognito's opaque `Session`, sent back with the answer. */
    session: string;
    /** Who answers: `USERNAME` (else `USER_ID_FOR_SRP`) from the parameters, else the name
     * the user signed in with. */
    username: string;
    /** Cognito's `ChallengeParameters`, frozen: `CODE_DELIVERY_DESTINATION`,
     * `MFAS_CAN_CHOOSE` (a JSON array in a string), `requiredAttributes`, ... */
    parameters: Readonly<Record<string, string>>;
} }[ChallengeName];

export type SignInResult = { status: "signedIn" } | Challenge;

/** What `signOut` does besides forgetting the tokens here and in every tab; combinable. */
export interface SignOutOptions {
    /** Revoke the refresh token at the provider: Cognito `RevokeToken` (its access tokens die
     * with it), or RFC 7009 at `revocationEndpoint`. Nothing is sent without a refresh token. */
    revoke?: boolean;
    /** Cognito `GlobalSignOut`: every session of the user, on every device, ends (this one's
     * refresh token too, so `revoke` adds nothing). An access token about to expire is first
     * traded for a fresh one with the refresh token, as Cognito refuses expired ones. */
    global?: boolean;
    /** Then go to the provider's logout page (`endSessionEndpoint` or `logoutEndpoint`), which
     * ends the provider's own session (its cookie) too; the promise resolves as the browser
     * leaves. */
    redirect?: boolean;
}



/**
 * One signed-in (or signed-out) user session. See the TypeScript declarations for the API.
 */
export class Session {
    /**
     * Stops listening to the page, aborts a refresh under way, releases the refresh lock,
     * rejects waiting callers with `NOT_SIGNED_IN` and frees the core. The session cannot be
     * used afterwards.
     */
    free(): void;
    /** `free()`, for `using session = new Session(...)` (TypeScript 5.2+, lib esnext). */
    [Symbol.dispose](): void;
    /**
     * The claims of the ID token (of the access token when there is none) as a frozen object,
     * decoded once per token; `null` when signed out. Not verified: for display and routing,
     * never for authorisation decisions (the API checks the access token). Name the claims the
     * app reads as `T`: `session.claims<{ email: string; "cognito:groups"?: string[] }>()`.
     */
    claims<T extends object = Record<string, unknown>>(): Readonly<T> | null;
    /**
     * `fetch` that adds `Authorization: Bearer <access token>` when the URL's origin is the
     * page's own or in `allowedOrigins`, and only with a valid token (otherwise it rejects with
     * the typed error and sends nothing). On a 401 it replays once with a newer token when the
     * session judges the token stale (superseded, or old enough to have expired early: then it
     * refreshes first); a token just issued is not refreshed again. Other origins get the
     * request untouched. The request's `signal` (from `init` or the `Request`) also cuts the
     * wait for a token short: it rejects with the signal's reason, as `fetch` does, and sends
     * nothing.
     */
    fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
    /**
     * Whether `fetch` (and `cognito-session/axios`) puts the token on a request to `url`: true
     * when its origin (scheme, host and port, compared exactly) is the page's own or one of
     * `allowedOrigins`. A relative URL resolves against `document.baseURI` (else
     * `location.href`); an unparsable URL, or one that is not http(s), gives false. For other
     * HTTP clients that attach the token themselves, so they follow the same rule.
     */
    attachesTokenTo(url: string | URL): boolean;
    /**
     * After an API answered 401 to a request sent with `refusedToken`: resolves with a newer
     * valid token to replay the request with once (refreshing first when the session judges the
     * refused token stale), or `null` when a replay cannot help (the token was just issued, so
     * the 401 is about something else, or no newer token came): then surface the 401. Rejects
     * with the typed error when a token was needed but none could be had. `session.fetch` uses
     * the same rule; this is for other HTTP clients (an axios interceptor, for example).
     */
    tokenForReplay(refusedToken: string, options?: TokenOptions): Promise<string | null>;
    /**
     * A valid access token, or a typed error by `deadlineMs` (default 10 s). While the token is
     * fresh this returns an already-resolved promise of a cached string.
     */
    getAccessToken(options?: TokenOptions): Promise<string>;
    /**
     * The ID token, under the same rules as `getAccessToken`. Rejects with
     * `BAD_CONFIG` when the session has no ID token (tokens set without one).
     */
    getIdToken(options?: TokenOptions): Promise<string>;
    /**
     * A frozen summary (`signedIn`, `expiresAt`, `refreshing`, `retryAt`, `expired`): the same
     * object until something changes.
     */
    getSnapshot(): SessionSnapshot;
    /**
     * Validates `config`, resumes the session kept in storage (if any) and starts listening to
     * the page. Throws a `BAD_CONFIG` error for any bad value, and `LOAD_FAILED` when the `.wasm`
     * could not be loaded (its message says why and what to change).
     */
    constructor(config: SessionConfig);
    /**
     * Adopts tokens obtained elsewhere (`{accessToken, idToken?, refreshToken?, expiresIn?}`;
     * `expiresIn` in seconds, needed only for opaque OAuth2 access tokens). Throws
     * `BAD_CONFIG` when they are missing, malformed or issued to another client. (An expired
     * access token is accepted: with a refresh token the next caller refreshes it.)
     */
    setTokens(tokens: Tokens): void;
    /**
     * Signs in with Cognito `USER_PASSWORD_AUTH` (the app client must allow it). Resolves
     * `{status: "signedIn"}` or, when Cognito asks for another step, a `Challenge` to answer
     * with `respondToChallenge`. A refused user name or password rejects with `NOT_SIGNED_IN`
     * (`providerCode` says why).
     */
    signInWithPassword(username: string, password: string): Promise<SignInResult>;
    /**
     * Answers `challenge` (as a sign-in step resolved with it) with Cognito's
     * `RespondToAuthChallenge`, and resolves as `signInWithPassword` does: signed in, or the
     * next challenge. Rejects with `BAD_CONFIG`, sending nothing, when the challenge object lacks
     * its fields or the answer does not fit its challenge; with `NOT_SIGNED_IN` when Cognito
     * refuses the answer: `providerCode` `CodeMismatchException`, `InvalidPasswordException`,
     * `PasswordHistoryPolicyViolationException` or `AliasExistsException` (answer the same
     * challenge again), `ExpiredCodeException` or `NotAuthorizedException` (the code or the
     * session expired: sign in again).
     */
    respondToChallenge<C extends Challenge & { challengeName: AnswerableChallengeName }>(
        challenge: C,
        answer: ChallengeAnswers[C["challengeName"]],
    ): Promise<SignInResult>;
    /**
     * Sends the browser to the provider's login page (needs `authorizationEndpoint`): the OAuth2
     * authorization-code flow with PKCE (S256), a `state` and an OIDC `nonce`, drawn with
     * WebCrypto (so the page must be https or localhost). `params` adds parameters to this
     * request, e.g. `{identity_provider: "Google"}` (Cognito) or `{login_hint: "alice"}`; not
     * the flow's own (`state`, `scope`, `redirect_uri`, ...), which providers refuse to see twice.
     * Resolves once the browser is on its way (the page then unloads); rejects with `BAD_CONFIG`
     * when it cannot go (no `authorizationEndpoint`, no WebCrypto or sessionStorage, `params`
     * not an object of strings).
     */
    signIn(options?: { params?: Record<string, string> }): Promise<void>;
    /**
     * Call on the `redirectUri` page: completes the sign-in `signIn()` started in this tab.
     * Resolves `{status: "signedIn"}`, or `null` when this page load is no return from the
     * provider (no `state` with a `code` or an `error` in the URL). The return's parameters are
     * removed from the address bar. Rejects with `BAD_RESPONSE` for a return this tab did not
     * start or whose `state` is not this sign-in's (nothing is sent, and the tab's sign-in record
     * stays for the real return), whose `iss` names another issuer than `issuer`, or whose ID
     * token `nonce` is not this sign-in's or is missing after asking for `openid`,
     * `NOT_SIGNED_IN` when the provider refused (`providerCode`: e.g. "access_denied"),
     * `BAD_CONFIG` for a misconfigured request, `UNAVAILABLE`/`THROTTLED` when the code exchange
     * failed on the way.
     */
    handleRedirect(): Promise<{ status: "signedIn" } | null>;
    /**
     * Forgets the tokens here and, for `localStorage` sessions, in every tab; waiters are
     * rejected with `NOT_SIGNED_IN`. Without options that is all. The options then end the
     * session at the provider, with the tokens held until now (see `SignOutOptions`). Options
     * the provider cannot honour reject with `BAD_CONFIG` and nothing happens; a provider call
     * that fails rejects with its typed error (`providerCode` names it), whose message says the
     * session was signed out here all the same.
     */
    signOut(options?: SignOutOptions): Promise<void>;
    /**
     * Calls `listener(event)` for every session event; returns the function that unsubscribes.
     * Also fires `{type: "change"}` when `getSnapshot()` changes without another event, so it
     * can be passed to React's `useSyncExternalStore` as is.
     */
    subscribe(listener: (event: SessionEvent) => void): () => void;
}

