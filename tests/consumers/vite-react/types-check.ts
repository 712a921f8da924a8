// Type-checked (never run) by tests/consumers/vite-react.test.mjs with `tsc --noEmit --strict`
// (skipLibCheck off), with @types/react 19 and again with @types/react 18: the declarations of
// cognito-session/react take the package's Session, type the claims the app names, and narrow
// the token state by its status.
import { createElement } from 'react';
import { Session, type SessionErrorCode } from 'cognito-session';
import {
  SessionProvider,
  useAccessToken,
  useSession,
  useSessionContext,
  type AccessTokenState,
  type ReactSession,
  type SessionState,
} from 'cognito-session/react';

const session = new Session({ clientId: 'abc123', userPoolId: 'us-east-1_AbC123' });

export function Profile() {
  const state: SessionState<{ email: string; 'cognito:groups'?: string[] }> = useSession<{ email: string; 'cognito:groups'?: string[] }>(session);
  const email: string | undefined = state.claims?.email;
  const until: number | null = state.expiresAt;
  const signedIn: boolean = state.signedIn;
  // @ts-expect-error the claims are read-only
  if (state.claims) state.claims.email = 'x';
  // @ts-expect-error a claim the app did not name
  void state.claims?.phone;
  const fromProvider = useSession();
  const anyClaim: unknown = fromProvider.claims?.['custom:tenant'];
  return createElement('p', null, `${email} ${until} ${signedIn} ${String(anyClaim)}`);
}

export function Avatar() {
  const token: AccessTokenState = useAccessToken(session);
  switch (token.status) {
    case 'ready': {
      const bearer: string = token.token;
      return createElement('img', { src: `/avatar?access_token=${bearer}` });
    }
    case 'error': {
      const code: SessionErrorCode = token.error.code;
      const retryAt: number | undefined = token.error.retryAt;
      return createElement('p', null, `${code} ${retryAt}`);
    }
    default: {
      // @ts-expect-error no token while loading
      const none: string = token.token;
      return createElement('p', null, none);
    }
  }
}

export function SignOut() {
  const s: Session = useSessionContext();
  const stub = useSessionContext<ReactSession>();
  void stub.getSnapshot();
  return createElement('button', { onClick: () => void s.signOut() }, 'Sign out');
}

export const app = createElement(SessionProvider, { session }, createElement(Profile), createElement(Avatar), createElement(SignOut));

// A stand-in with the four methods the hooks use fits too.
const stub: ReactSession = {
  subscribe: () => () => {},
  getSnapshot: () => session.getSnapshot(),
  claims: () => null,
  getAccessToken: async () => 'token',
};
useAccessToken(stub);
// @ts-expect-error not a session: no getAccessToken
useAccessToken({ subscribe: session.subscribe, getSnapshot: session.getSnapshot, claims: () => null });
// @ts-expect-error the provider needs a session
createElement(SessionProvider, {}, null);
