// The certified Node.js OpenID Provider (oidc-provider, pinned in package.json) configured
// as close to wxauth's provider as it goes, for the `oidc` benchmark: one confidential
// client (client_secret_basic or client_secret_post), PKCE S256 required, ID tokens signed
// with the one PKCS#8 key given (RS256 for RSA, ES256 for P-256), the library's own in-memory
// adapter, code and access token lifetimes of wxauth's (60 s and 600 s).
//
//   PORT=… KEY_PEM="$(cat key.pem)" CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… \
//   AUTH_METHOD=client_secret_basic node server.mjs
//
// There is no login page: `/interaction/:uid` logs the browser in as the account its
// `x-account` header names and grants the `openid` scope at once, through the provider's
// documented interaction API (interactionDetails, Grant, interactionFinished). That is
// where wxauth's benchmark drives WeChat's simulator instead; both happen before the timed
// part. Prints `listening <port>` when ready.

import { createPrivateKey } from 'node:crypto';
import { createServer } from 'node:http';

import { Provider } from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('PORT'));
const issuer = `http://127.0.0.1:${port}`;
const jwk = createPrivateKey(env('KEY_PEM')).export({ format: 'jwk' });
const alg = jwk.kty === 'RSA' ? 'RS256' : 'ES256';

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('CLIENT_ID'),
    client_secret: env('CLIENT_SECRET'),
    redirect_uris: [env('REDIRECT_URI')],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: process.env.AUTH_METHOD || 'client_secret_basic',
    id_token_signed_response_alg: alg,
  }],
  jwks: { keys: [{ ...jwk, alg, use: 'sig' }] },
  // wxauth requires PKCE of every client unless told otherwise; S256 is the only method.
  pkce: { required: () => true },
  // wxauth's ID token carries `openid` beside `sub`.
  claims: { openid: ['sub', 'openid'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, openid: sub }),
  }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['benchmark-cookie-key-not-a-secret-of-anything'] },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Grant: 600,
    Interaction: 600,
    Session: 600,
  },
});

const app = provider.callback();

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const accountId = req.headers['x-account'] || 'benchmark-user';
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  app(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
