// The real libraries whose stored sessions cognito-session/adopt takes over, bundled for the test
// page (tests/e2e/pages/adopt.js) by tests/e2e/adopt.test.mjs with the project's esbuild into
// dist/ (not committed). The page signs in with them for real against the rig.
export { Amplify } from 'aws-amplify';
export { signIn as amplifySignIn, fetchAuthSession as amplifyFetchAuthSession } from 'aws-amplify/auth';
export { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';
export { User as OidcUser, UserManager as OidcUserManager } from 'oidc-client-ts';
