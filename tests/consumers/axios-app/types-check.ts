// Type-checked (never run) by tests/consumers/axios.test.mjs with `tsc --noEmit --strict`: the
// package's axios types accept a real AxiosInstance (axios 1.21.1's and 1.7.9's) and Session,
// and the package's own augmentation lets requests carry the opt-out flag, typed, with no
// declaration in the app.
import axios from 'axios';
import axiosOld from 'axios-old';
import { Session } from 'cognito-session';
import { attachAxios, type AttachAxiosOptions } from 'cognito-session/axios';

const session = new Session({ clientId: 'abc123', userPoolId: 'us-east-1_AbC123', allowedOrigins: ['https://api.example.com'] });
const api = axios.create({ baseURL: 'https://api.example.com' });
const attaches: boolean = session.attachesTokenTo(new URL('https://api.example.com/v1'));
void attaches;
const options: AttachAxiosOptions = { deadlineMs: 5000 };
const detach: () => void = attachAxios(api, session, options);
attachAxios(axios, session);
// axios 1.7.9's AxiosInstance type has no create(): the adapter's type does not need it.
attachAxios(axiosOld.create(), session);
void api.get('/public', { cognitoSession: false });
// @ts-expect-error the flag is a boolean
void api.get('/public', { cognitoSession: 'no' });
detach();

// @ts-expect-error not an axios instance
attachAxios({}, session);
// @ts-expect-error not a session
attachAxios(api, { getAccessToken: async () => 'token' });
// @ts-expect-error not a session: no attachesTokenTo
attachAxios(api, { getAccessToken: async () => 'token', tokenForReplay: async () => null });
// @ts-expect-error allowedOrigins belongs in the Session config, not the adapter's options
attachAxios(api, session, { allowedOrigins: ['https://api.example.com'] });
