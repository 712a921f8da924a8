// Type-checked by tests/consumers/adopt.test.mjs (tsc --strict) against the installed package: the
// adopters fit SessionConfig.adopt, the adoption events narrow, and misuse does not compile.
import { Session, type AdoptionSource, type SessionEvent } from 'cognito-session';
import { fromAmplify, fromCognitoIdentityJs, fromOidcClientTs } from 'cognito-session/adopt';

export const amplify = new Session({ userPoolId: 'us-east-1_AbC123', clientId: 'abc123', storage: 'local', adopt: fromAmplify() });
export const classic = new Session({ userPoolId: 'us-east-1_AbC123', clientId: 'abc123', adopt: fromCognitoIdentityJs({ storage: sessionStorage }) });
export const oidc = new Session({
  clientId: 'spa',
  tokenEndpoint: 'https://auth.example.com/token',
  adopt: fromOidcClientTs({ authority: 'https://auth.example.com', storage: localStorage, prefix: 'oidc.' }),
});

export function describe(event: SessionEvent): string {
  switch (event.type) {
    case 'adopted': {
      const from: AdoptionSource = event.from;
      return from;
    }
    case 'adoptionRefused':
      return `${event.from}: ${event.detail}`;
    default:
      return event.type;
  }
}
amplify.subscribe((e) => describe(e));

// @ts-expect-error the library is chosen with a function from cognito-session/adopt, not a name
new Session({ userPoolId: 'us-east-1_AbC123', clientId: 'abc123', adopt: 'amplify' });
// @ts-expect-error oidc-client-ts's key names the authority
fromOidcClientTs({});
// @ts-expect-error a store needs getItem and removeItem
fromAmplify({ storage: {} });
