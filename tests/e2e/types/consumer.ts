// A TypeScript app using the package's generated and hand-written types. `tsc --noEmit` on this
// file (scripts/e2e.sh) fails when the declarations stop matching how the API is meant to be
// used; the @ts-expect-error lines fail when the types become too loose to catch misuse.
import init, {
  CognitoSessionError,
  isSessionError,
  Session,
  type SessionConfig,
  type SessionError,
  type SessionEvent,
  type SessionSnapshot,
} from "../../../pkg/web/cognito_session.js";

export async function app(): Promise<void> {
  await init();
  const config: SessionConfig = {
    userPoolId: "us-east-1_AbC123",
    clientId: "abc123",
    storage: "session",
    loginUrl: "/login",
    allowedOrigins: ["https://api.example.com"],
    onLoginRequired: (reason) => {
      const known: "refreshTokenDead" | "noRefreshToken" | "expiredElsewhere" = reason;
      void known;
    },
  };
  const session = new Session(config);

  const result = await session.signInWithPassword("alice", "secret");
  if (result.status === "challenge") {
    const name: string = result.challengeName;
    void name;
  }
  // Challenges: once the name is checked, the answer must fit it.
  let step = result;
  while (step.status === "challenge") {
    if (step.challengeName === "NEW_PASSWORD_REQUIRED") {
      step = await session.respondToChallenge(step, { newPassword: "N3w-pass!", attributes: { name: "Alice" } });
    } else if (step.challengeName === "SOFTWARE_TOKEN_MFA" || step.challengeName === "SMS_MFA") {
      const where: string = step.parameters.CODE_DELIVERY_DESTINATION;
      void where;
      // @ts-expect-error: a new password does not answer an MFA code challenge
      await session.respondToChallenge(step, { newPassword: "x" });
      step = await session.respondToChallenge(step, { code: "123456" });
    } else if (step.challengeName === "SELECT_MFA_TYPE") {
      // @ts-expect-error: only the three MFA types can be chosen
      await session.respondToChallenge(step, { mfaType: "PASSWORD" });
      step = await session.respondToChallenge(step, { mfaType: "SOFTWARE_TOKEN_MFA" });
    } else if (step.challengeName === "MFA_SETUP") {
      // @ts-expect-error: MFA_SETUP has no answer here
      await session.respondToChallenge(step, { code: "123456" });
      break;
    } else {
      break;
    }
  }
  if (step.status === "challenge") {
    // @ts-expect-error: the parameters are read-only
    step.parameters.USERNAME = "mallory";
  }
  session.setTokens({ accessToken: "a.b.c", refreshToken: "r" });

  const token: string = await session.getAccessToken({ deadlineMs: 5_000 });
  const idToken: string = await session.getIdToken();
  const response: Response = await session.fetch("/api/data", { method: "GET" });
  const claims = session.claims();
  const snapshot: SessionSnapshot = session.getSnapshot();
  const expiresAt: number | null = snapshot.expiresAt;

  const unsubscribe: () => void = session.subscribe((event: SessionEvent) => {
    if (event.type === "throttled") {
      const retryAt: number = event.retryAt;
      void retryAt;
    }
  });
  unsubscribe();

  try {
    await session.getAccessToken();
  } catch (e) {
    const error = e as SessionError;
    if (error.code === "THROTTLED" || error.code === "UNAVAILABLE") {
      const retryAt: number | undefined = error.retryAt;
      void retryAt;
    } else {
      // @ts-expect-error: only THROTTLED and UNAVAILABLE carry retryAt
      const retryAt: number = error.retryAt;
      void retryAt;
    }
    switch (error.code) {
      case "THROTTLED":
      case "UNAVAILABLE":
      case "SESSION_EXPIRED":
      case "NOT_SIGNED_IN":
      case "BAD_CONFIG":
      case "BAD_RESPONSE":
      case "LOAD_FAILED":
        break;
      default: {
        const unreachable: never = error;
        void unreachable;
      }
    }
  }
  await session.signOut();
  void [token, idToken, response, claims, expiresAt];

  // @ts-expect-error: a client secret must never be configured in a browser
  new Session({ clientId: "abc", clientSecret: "s3cret" });
  // @ts-expect-error: storage is one of three modes
  new Session({ clientId: "abc", storage: "cookie" });

  // Sign-in through the provider's login page.
  const oidc = new Session({
    clientId: "spa",
    tokenEndpoint: "https://auth.example.com/oauth2/token",
    authorizationEndpoint: "https://auth.example.com/oauth2/authorize",
    redirectUri: "https://app.example.com/callback",
    scope: "openid offline_access",
  });
  const returned = await oidc.handleRedirect();
  if (returned === null) {
    const going: Promise<void> = oidc.signIn();
    void going;
  } else {
    const status: "signedIn" = returned.status;
    void status;
  }
  // The app names the claims it reads; the default is a record of unknowns.
  const mine = session.claims<{ email: string; "cognito:groups"?: string[] }>();
  if (mine !== null) {
    const email: string = mine.email;
    void email;
    // @ts-expect-error: the claims are read-only
    mine.email = "x";
  }
  const plain = session.claims();
  if (plain !== null) {
    // @ts-expect-error: an unnamed claim is unknown until checked
    const sub: string = plain.sub;
    void sub;
  }

  // The runtime guard narrows an unknown catch value to the union that switches on `code`.
  try {
    await session.getAccessToken();
  } catch (e: unknown) {
    if (isSessionError(e)) {
      const code: "THROTTLED" | "UNAVAILABLE" | "SESSION_EXPIRED" | "NOT_SIGNED_IN" | "BAD_CONFIG" | "BAD_RESPONSE" | "LOAD_FAILED" = e.code;
      void code;
    }
    const asClass: boolean = e instanceof CognitoSessionError;
    void asClass;
  }
  session.subscribe((event: SessionEvent) => {
    if (event.type === "tokenWithheld") {
      const origin: string = event.origin;
      void origin;
    }
  });

  // @ts-expect-error: redirectUri is a string
  new Session({ clientId: "spa", tokenEndpoint: "https://a/t", authorizationEndpoint: "https://a/a", redirectUri: 3 });
}
