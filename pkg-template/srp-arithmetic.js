// The arithmetic of SRP sign-in (`cognito-session/srp`, srp.js): the client's side of SRP-6a
// (RFC 5054 §2.5-2.6, after RFC 2945) over any group, hash and number encoding, and Cognito's
// instance of it: the 3072-bit group of RFC 3526 with g = 2, SHA-256, numbers hashed as
// `padHex` writes them, the HKDF key and the signature of the password claim. Pure: numbers are
// BigInts, hashes and MACs are WebCrypto's (`crypto.subtle`, which browsers give secure
// contexts only); the caller brings the random `a`, the clock and every check of the server's
// values. Not a package entry of its own: srp.js imports it.

/** Big-endian bytes as lowercase hex. */
const hexOf = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Even-length hex as bytes. */
const bytesOfHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));

/** Big-endian bytes as a non-negative number. */
export const numberOf = (bytes) => BigInt(`0x0${hexOf(bytes)}`);

const utf8 = (text) => new TextEncoder().encode(text);

/** The byte strings one after the other. */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `hash` (a WebCrypto digest name: "SHA-1", "SHA-256") of the parts one after the other. */
const digest = async (hash, ...parts) => new Uint8Array(await crypto.subtle.digest(hash, concat(...parts)));

/** `base` to the power `exponent` (>= 0), mod `modulus`; a negative base is taken mod `modulus` first. */
export function modPow(base, exponent, modulus) {
  let result = 1n;
  base = ((base % modulus) + modulus) % modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

/**
 * SRP-6a's client computations (RFC 5054 §2.5-2.6) in the group of prime `N` and generator
 * `g`, with the digest `hash` (a WebCrypto name), where `pad(n)` gives the bytes a number is
 * hashed as: RFC 5054's PAD (big-endian, left-padded with zeros to the length of N), or
 * Cognito's `padHex`. Every result is a number; the hashes are read big-endian.
 */
export function srp6a({ N, g, hash, pad }) {
  const H = async (...parts) => numberOf(await digest(hash, ...parts));
  let k;
  /** k = H(N | PAD(g)), computed once. */
  const multiplier = () => (k ??= H(pad(N), pad(g)));
  return {
    N,
    multiplier,
    /** x = H(s | H(I | ":" | P)): `salt` as bytes, the identity I and the password P as text. */
    x: async (salt, identity, password) => H(salt, await digest(hash, utf8(`${identity}:${password}`))),
    /** u = H(PAD(A) | PAD(B)). */
    u: (A, B) => H(pad(A), pad(B)),
    /** A = g^a mod N. */
    A: (a) => modPow(g, a, N),
    /** The premaster secret S = (B - k * g^x) ^ (a + u * x) mod N. */
    S: async (a, B, x, u) => modPow(B - (await multiplier()) * modPow(g, x, N), a + u * x, N),
  };
}

/**
 * Cognito's bytes of a number as its clients write them: the hex of the number made even in
 * length, with a `00` byte before it when its first byte is 0x80 or more (big-endian two's
 * complement, as Java's BigInteger writes positive numbers). Only numbers >= 0 are ever padded.
 */
export function padHex(n) {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return bytesOfHex(/^[89a-f]/.test(hex) ? `00${hex}` : hex);
}

/** RFC 3526's 3072-bit MODP prime (RFC 5054 Appendix A's 3072-bit group), the N of Cognito's SRP. */
const N_3072 = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);

/**
 * Cognito's SRP-6a: the 3072-bit group, g = 2, SHA-256, numbers hashed as `padHex` writes them.
 * Its x is `x(padHex(salt), poolName + userIdForSrp, password)`.
 */
export const cognito = srp6a({ N: N_3072, g: 2n, hash: 'SHA-256', pad: padHex });

/**
 * The key the password claim is signed with: HKDF-SHA256 (RFC 5869) of `padHex(S)`, salted with
 * `padHex(u)`, info "Caldera Derived Key", 16 bytes.
 */
export async function passwordKey(S, u) {
  const subtle = crypto.subtle;
  const ikm = await subtle.importKey('raw', padHex(S), 'HKDF', false, ['deriveBits']);
  const info = utf8('Caldera Derived Key');
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: padHex(u), info }, ikm, 128));
}

/**
 * The password claim's signature, base64: HMAC-SHA256 with `key` of the pool name (the part
 * of the pool id after `_`), the user's USER_ID_FOR_SRP, the bytes of the challenge's
 * SECRET_BLOCK and the `timestamp` text, one after the other.
 */
export async function claimSignature(key, poolName, userId, secretBlock, timestamp) {
  const subtle = crypto.subtle;
  const hmac = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await subtle.sign('HMAC', hmac, concat(utf8(poolName), utf8(userId), secretBlock, utf8(timestamp)));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

/**
 * The claim's timestamp as Cognito's clients write it, in UTC with English names and the day
 * of the month not padded: `Tue Mar 3 08:09:05 UTC 2026`. Built from `toUTCString()`
 * ("Tue, 03 Mar 2026 08:09:05 GMT"), whose names ECMAScript fixes in English.
 */
export function claimTimestamp(date) {
  const [weekday, day, month, year, time] = date.toUTCString().split(' ');
  return `${weekday.slice(0, 3)} ${month} ${Number(day)} ${time} UTC ${year}`;
}
