// cognito-session/adopt: takes over, once, the session another library left in this page's
// storage, so that switching an app to cognito-session signs nobody out. Each function makes an
// adopter for `new Session({ ..., adopt: fromAmplify() })`:
//
// - `fromAmplify()`: Amplify v6 (`aws-amplify`, `@aws-amplify/auth`). Its token store keeps, in
//   localStorage unless the app gave `cognitoUserPoolsTokenProvider.setKeyValueStorage` another
//   store, `CognitoIdentityServiceProvider.<clientId>.LastAuthUser` (the user name) and
//   `CognitoIdentityServiceProvider.<clientId>.<user>.<name>` for `accessToken`, `idToken`,
//   `refreshToken`, `clockDrift`, `signInDetails`, `oauthMetadata` and the remembered device's
//   `deviceKey`, `deviceGroupKey`, `randomPasswordKey`. The prefix is a constant of Amplify's
//   (no option changes it).
// - `fromCognitoIdentityJs()`: amazon-cognito-identity-js, the same key scheme (its own `Storage`
//   option, default localStorage), plus `<user>.userData`.
// - `fromOidcClientTs({ authority })`: oidc-client-ts, whose `UserManager` keeps the user as JSON
//   (`access_token`, `id_token`, `refresh_token`, `token_type`, `expires_at` in seconds since
//   the epoch, ...) at `<prefix>user:<authority>:<client_id>`, prefix `oidc.`, in sessionStorage
//   unless its `userStore` says otherwise.
//
// The order, which loses nothing whatever stops the page in between: only when our own storage
// holds no record; under a Web Lock named for the other library's keys, so that tabs starting
// together adopt once, with our storage read again inside it; the tokens handed to the engine
// through `session.setTokens`, which checks them as it checks any tokens from outside (JWT shape,
// the app client in `client_id` / `aud`, `token_use`, the issuer when configured); the other
// library's keys removed only once our record is written. A record that does not read, or whose
// tokens the engine refuses (another app client's, say), is left where it is, with an
// `adoptionRefused` event; success is an `adopted` event after the session's `signedIn`.
//
// The Session calls the adopter with itself and its driver (the package's own, this entry ships
// with it): the driver's `store` (our record), `config`, `notify` and `adopting`, which callers
// of `getAccessToken` wait on. Reading other libraries' formats lives here, not in the main
// entry, so apps that adopt nothing download none of it.

/** How long a tab waits for another tab's adoption before leaving it to the next page load. */
const LOCK_WAIT_MS = 3000;

/**
 * How long a tab keeps the adoption lock after writing, as the driver keeps the refresh lock:
 * a localStorage write reaches other tabs as a message, which the next lock grant can overtake.
 */
const SETTLE_MS = 50;

/** The prefix of Amplify's and amazon-cognito-identity-js's keys. */
const COGNITO_PREFIX = 'CognitoIdentityServiceProvider';

/** The per-user keys both Cognito libraries write, removed with the session. */
const COGNITO_USER_KEYS = ['accessToken', 'idToken', 'refreshToken', 'clockDrift', 'signInDetails', 'oauthMetadata', 'oidcProvider', 'userData'];

/** The session's errors carry this brand (`isSessionError`), also across copies of the package. */
const BRAND = Symbol.for('cognito-session.error');

/** An `Error` with `code`, as the session's own. */
function sessionError(code, message) {
  return Object.assign(new Error(`adopt: ${message}`), { name: 'CognitoSessionError', code, [BRAND]: true });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The web storage the other library used: `storage` when given, else the window's `name`. */
function storageOption(options, name) {
  const storage = options?.storage;
  if (storage === undefined) return () => globalThis.window?.[name] ?? null;
  if (typeof storage?.getItem !== 'function' || typeof storage?.removeItem !== 'function') {
    throw sessionError('BAD_CONFIG', 'storage must be a Storage (localStorage, sessionStorage or one with getItem and removeItem)');
  }
  return () => storage;
}

/** A found record: the tokens to install and the keys to remove once they are ours. */
const found = (tokens, keys) => ({ tokens, keys });
/** A record that cannot be adopted, and why. */
const refused = (detail) => ({ refused: detail });

/**
 * Amplify v6's and amazon-cognito-identity-js's record for `clientId` in `area`: null when none
 * is stored (no `LastAuthUser`, or no access token under it, which both libraries read as
 * signed out).
 */
function readCognitoKeys(area, clientId) {
  const base = `${COGNITO_PREFIX}.${clientId}`;
  const lastUser = `${base}.LastAuthUser`;
  const user = area.getItem(lastUser);
  if (user === null) return null;
  // Amplify's own store wrappers (`sessionStorage` from aws-amplify/utils) answer promises.
  if (typeof user !== 'string') return refused('the storage is not synchronous: pass window.localStorage or window.sessionStorage');
  const key = (name) => `${base}.${user}.${name}`;
  const accessToken = area.getItem(key('accessToken'));
  if (!accessToken) return null;
  // With device tracking, Cognito refuses a refresh without the device's key, which the
  // session's refresh does not send: adopting would end the session at its first refresh.
  if (area.getItem(key('deviceKey'))) {
    return refused('the session belongs to a remembered device (deviceKey), and a refresh without DEVICE_KEY would be refused');
  }
  const optional = (name) => area.getItem(key(name)) || undefined;
  return found(
    { accessToken, idToken: optional('idToken'), refreshToken: optional('refreshToken') },
    [lastUser, ...COGNITO_USER_KEYS.map(key)],
  );
}

/** oidc-client-ts's user at `key` in `area`, or null when none is stored. */
function readOidcUser(area, key, now) {
  const text = area.getItem(key);
  if (text === null) return null;
  let user;
  try {
    user = JSON.parse(text);
  } catch {
    return refused('the stored user is not JSON');
  }
  if (typeof user !== 'object' || user === null) return refused('the stored user is not an object');
  const { access_token: accessToken, id_token: idToken, refresh_token: refreshToken, token_type: type, expires_at: expiresAt } = user;
  if (typeof accessToken !== 'string' || !accessToken) return refused('the stored user has no access_token');
  for (const [name, value] of [['id_token', idToken], ['refresh_token', refreshToken], ['token_type', type]]) {
    if (value != null && typeof value !== 'string') return refused(`the stored user's ${name} is not a string`);
  }
  // DPoP tokens are bound to a key the other library holds: they would not work from here.
  if (type != null && type.toLowerCase() !== 'bearer') return refused(`token_type ${type} is not Bearer`);
  if (expiresAt != null && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) {
    return refused("the stored user's expires_at is not a number");
  }
  const tokens = { accessToken, idToken: idToken || undefined, refreshToken: refreshToken || undefined };
  // The access token's remaining life, which an opaque access token states nowhere else; one
  // already over counts as 1 s, so the session refreshes it before handing anything out.
  if (expiresAt != null) tokens.expiresIn = Math.max(1, Math.floor(expiresAt - now / 1000));
  return found(tokens, [key]);
}

/**
 * An adopter: `from` names the library in events; `source(clientId)` is `[lock name, storage
 * getter, read(area, now)]`.
 */
function adopter(from, source) {
  const adopt = (session, driver) => {
    if (driver.store.read() !== null) return;
    const done = adoptOnce(from, source, session, driver).catch((e) => driver.notify({ type: 'adoptionRefused', from, detail: String(e?.message ?? e) }));
    done.then(() => {
      driver.adopting = null;
    });
    // Callers of getAccessToken wait for the adoption within their deadline: `left` ms remain.
    driver.adopting = (wait) => {
      const start = Date.now();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(sessionError('UNAVAILABLE', `the deadline passed while the session was taken over from ${from}`)),
          Math.min(wait, 0x7fffffff),
        );
        done.then(() => {
          clearTimeout(timer);
          resolve(Math.max(0, wait - (Date.now() - start)));
        });
      });
    };
  };
  adopt.source = from;
  return adopt;
}

/** Takes the other library's session over, under the adoption lock when Web Locks exist. */
async function adoptOnce(from, source, session, driver) {
  // Not inside `new Session()`: a listener subscribed right after it hears the events.
  await undefined;
  const [lockName, area, read] = source(driver.config.clientId);
  const tell = (type, detail) => driver.notify(detail === undefined ? { type, from } : { type, from, detail });
  /** The adoption itself, under the lock. */
  const take = () => {
    // Freed, or another tab (or this page's other session on the key) adopted or signed in
    // while this one waited for the lock: its record is the session.
    if (driver.freed || driver.store.read() !== null) return;
    let store;
    let record;
    try {
      store = area();
      record = store && read(store, Date.now());
    } catch (e) {
      tell('adoptionRefused', `reading ${from}'s storage failed: ${e?.message ?? e}`);
      return;
    }
    if (!record) return;
    if (record.refused) {
      tell('adoptionRefused', record.refused);
      return;
    }
    try {
      session.setTokens(record.tokens);
    } catch (e) {
      tell('adoptionRefused', String(e?.message ?? e));
      return;
    }
    // The old keys go once our record is where the app asked for it; kept while web storage is
    // failing (the session fell back to memory), so that a reload can adopt again.
    const { store: ours, config } = driver;
    if (ours.read() !== null && (ours.area || config.storage === 'memory')) {
      for (const key of record.keys) {
        try {
          store.removeItem(key);
        } catch {
          // Our record is written: a key left behind is not read again while it stands.
        }
      }
    }
    tell('adopted');
  };
  const locks = globalThis.navigator?.locks;
  if (typeof locks?.request !== 'function') {
    take();
    return;
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), LOCK_WAIT_MS);
  try {
    await locks.request(lockName, { signal: timeout.signal }, async () => {
      clearTimeout(timer);
      take();
      // Also after finding another tab's record: the storage event that brings it to this
      // tab's engine is then delivered before the callers waiting here ask it for a token.
      await sleep(SETTLE_MS);
    });
  } catch (e) {
    clearTimeout(timer);
    if (timeout.signal.aborted) tell('adoptionRefused', `another tab held the adoption lock for ${LOCK_WAIT_MS} ms; the keys stay for the next page load`);
    // The lock manager refused (the page is going away, or no lock for this document): adopt
    // without it, as the session refreshes without it; at worst two tabs adopt the same tokens.
    else take();
  }
}

/** An adopter of the Cognito key scheme Amplify v6 and amazon-cognito-identity-js share. */
function cognitoAdopter(from, options) {
  const area = storageOption(options, 'localStorage');
  return adopter(from, (clientId) => [`cognito-session:adopt ${COGNITO_PREFIX}.${clientId}`, area, (s) => readCognitoKeys(s, clientId)]);
}

/**
 * Takes over Amplify v6's session for this client id. `storage`: the store given to
 * `cognitoUserPoolsTokenProvider.setKeyValueStorage` (default localStorage).
 */
export const fromAmplify = (options) => cognitoAdopter('amplify', options);

/** Takes over amazon-cognito-identity-js's session. `storage`: the pool's `Storage` (default
 * localStorage). */
export const fromCognitoIdentityJs = (options) => cognitoAdopter('cognito-identity-js', options);

/**
 * Takes over oidc-client-ts's user for `authority` (its `UserManager` setting, exactly) and
 * this client id. `storage`: the `userStore`'s store (default sessionStorage); `prefix`: its
 * prefix (default "oidc.").
 */
export function fromOidcClientTs(options) {
  const authority = options?.authority;
  if (typeof authority !== 'string' || !authority) throw sessionError('BAD_CONFIG', 'fromOidcClientTs needs { authority }, as given to its UserManager');
  const prefix = options.prefix ?? 'oidc.';
  if (typeof prefix !== 'string') throw sessionError('BAD_CONFIG', 'prefix must be a string');
  const area = storageOption(options, 'sessionStorage');
  return adopter('oidc-client-ts', (clientId) => {
    const key = `${prefix}user:${authority}:${clientId}`;
    return [`cognito-session:adopt ${key}`, area, (s, now) => readOidcUser(s, key, now)];
  });
}
