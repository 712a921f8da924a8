// Types for cognito-session/axios. axios is not a dependency of this package, so the instance
// and the session are typed by the shape the adapter uses: an `AxiosInstance` from axios 1.x
// and the package's `Session` both fit.

/** What the adapter needs from the session: the package's `Session` fits. */
export interface SessionLike {
  getAccessToken(options?: { deadlineMs?: number }): Promise<string>;
  tokenForReplay(refusedToken: string, options?: { deadlineMs?: number }): Promise<string | null>;
  /** Whether a request to this absolute URL gets the token (the session's origin rule). */
  attachesTokenTo(url: string): boolean;
}

/** What the adapter needs from axios: an `AxiosInstance` (axios 1.x) fits. */
export interface AxiosLikeInstance {
  interceptors: {
    request: {
      use(onFulfilled: (config: any) => any, onRejected?: ((error: any) => any) | null, options?: any): number;
      eject(id: number): void;
    };
    response: {
      use(onFulfilled: ((response: any) => any) | null | undefined, onRejected?: ((error: any) => any) | null): number;
      eject(id: number): void;
    };
  };
  request(config: any): Promise<any>;
  /** The URL a request goes to, as this axios builds it: the adapter checks it after the interceptors. */
  getUri(config?: any): string;
  /**
   * Present on every axios 1.x instance (some versions' declarations, 1.7.9's for one, leave it
   * out): the adapter
   * makes one instance with it to resolve adapter names (`adapter: "fetch"`, axios's default
   * list) after it has attached the token.
   */
  create?(config?: any): any;
}

export interface AttachAxiosOptions {
  /** How long a request waits at most for a token, in ms (default: the session's, 10000). */
  deadlineMs?: number;
  /**
   * Removed: the origins that get the token are the Session config's `allowedOrigins` (plus the
   * page's own), which the adapter follows through `session.attachesTokenTo`. Passing this
   * throws `BAD_CONFIG`, so an upgrading app does not silently lose its list.
   */
  allowedOrigins?: never;
}

/**
 * The per-request (or per-instance, in `axios.create({...})` defaults) flag the adapter reads:
 * `cognitoSession: false` sends the request without the token and never replays it.
 *
 * axios's `AxiosRequestConfig` gets the key from the augmentation below, which is in every
 * program that imports this package's types (the main entry's types re-export this interface),
 * so `api.get(url, { cognitoSession: false })` type-checks with no declaration in the app.
 */
export interface CognitoSessionRequestConfig {
  cognitoSession?: boolean;
}

declare module "axios" {
  interface AxiosRequestConfig extends CognitoSessionRequestConfig {}
}

/**
 * Adds `Authorization: Bearer <access token>` to `instance`'s requests whose URL as axios sends
 * it (`instance.getUri`, relative to the page, checked after every request interceptor, those
 * the app registered before this call included) `session.attachesTokenTo` accepts: the page's
 * origin or one of the Session config's `allowedOrigins`. Other requests go out untouched, as do
 * requests with `cognitoSession: false` or axios's `auth` (HTTP Basic). When the session cannot
 * give a token the request is not sent and rejects with the session's typed error
 * (`error.code`). After a 401 to a request it authorized, it replays the request once when
 * `session.tokenForReplay(sentToken)` gives a newer token, and otherwise rejects with the 401;
 * a replayed request is never replayed again. A request whose `signal` aborts while it waits for
 * a token rejects at once as axios rejects a cancelled request (`axios.isCancel(error)`), unsent.
 *
 * Returns `detach()`, which removes both interceptors. Throws `BAD_CONFIG` for arguments of the
 * wrong shape, and for an `allowedOrigins` option (the list lives in the Session config).
 */
export function attachAxios(instance: AxiosLikeInstance, session: SessionLike, options?: AttachAxiosOptions): () => void;
