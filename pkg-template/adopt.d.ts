// Types for cognito-session/adopt: adopters for `new Session({ ..., adopt })`, which take over,
// once, the session another library left in this page's storage.

import type { Adopter } from './index.js';

export type { Adopter, AdoptionSource } from './index.js';

/** Where the other library kept its session: the browser's own `localStorage` or `sessionStorage`
 * (not Amplify's asynchronous wrappers of them), or any store that answers synchronously. */
export interface StorageLike {
    getItem(key: string): string | null;
    removeItem(key: string): void;
}

export interface CognitoKeysOptions {
    /** The store the library was given (default `localStorage`, as both libraries default to). */
    storage?: StorageLike;
}

export interface OidcClientTsOptions {
    /** The `authority` given to oidc-client-ts's `UserManager`, exactly: it is part of the key. */
    authority: string;
    /** The `userStore`'s store (default `sessionStorage`, oidc-client-ts's default). */
    storage?: StorageLike;
    /** The `userStore`'s prefix (default `"oidc."`). */
    prefix?: string;
}

/**
 * Amplify v6 (`aws-amplify`): `CognitoIdentityServiceProvider.<clientId>.LastAuthUser` and the
 * tokens under `CognitoIdentityServiceProvider.<clientId>.<user>.*`. A session of a remembered
 * device (`deviceKey`) is refused: Cognito refuses its refresh without the device key.
 */
export declare function fromAmplify(options?: CognitoKeysOptions): Adopter;

/** amazon-cognito-identity-js: the same keys as Amplify v6. */
export declare function fromCognitoIdentityJs(options?: CognitoKeysOptions): Adopter;

/** oidc-client-ts: the user stored at `oidc.user:<authority>:<clientId>`. */
export declare function fromOidcClientTs(options: OidcClientTsOptions): Adopter;
