// An external OpenID Connect provider for Ignis's external-identity tests (tests/Ignis.Server.Tests/External):
// node oidc-provider on a free loopback port, with
//   - one confidential client (Ignis's delegated sign-in): authorization code, PKCE required,
//   - oidc-provider's development login and consent pages (any login name listed in IDP_ACCOUNTS),
//   - an RS256 and an ES256 signing key, published at its jwks_uri,
// and three test-only routes, outside the provider's own:
//   POST /_test/mint   {"key":"rsa"|"ec"|"stranger","claims":{...},"header":{...}} -> {"token":"..."}: a JWT signed with
//                      the provider's own key ("stranger": a key the provider never publishes)
//   GET  /_test/stats  how often jwks_uri was fetched, and the parameters of each authorization request
// env: IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_REDIRECT_URIS (space-separated),
//      IDP_ACCOUNTS (JSON: login -> claims, e.g. {"carol":{"email":"carol@example.org","email_verified":true}})
// Prints one JSON line {"issuer": "..."} once it listens; stops on SIGTERM or when stdin closes.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const clientId = process.env.IDP_CLIENT_ID ?? 'ignis';
const clientSecret = process.env.IDP_CLIENT_SECRET ?? 'ignis-secret-0123456789abcdef0123456789';
const redirectUris = (process.env.IDP_REDIRECT_URIS ?? '').split(' ').filter((u) => u.length > 0);
const accounts = JSON.parse(process.env.IDP_ACCOUNTS ?? '{}');

async function signingKey(alg, kid) {
  const pair = await jose.generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...(await jose.exportJWK(pair.privateKey)), kid, alg, use: 'sig' } };
}
const keys = {
  rsa: await signingKey('RS256', 'idp-rsa'),
  ec: await signingKey('ES256', 'idp-ec'),
  stranger: await signingKey('RS256', 'stranger'),
};

const stats = { jwks: 0, authorize: [] };
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [keys.rsa.jwk, keys.ec.jwk] },
  findAccount: async (_ctx, id) => (Object.hasOwn(accounts, id)
    ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }
    : undefined),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  // The id token carries the scope's claims too (not only the userinfo response).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['external-idp-test-cookie-key-0123456789'] },
  features: { devInteractions: { enabled: true } },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
// The parameters of each accepted authorization request, pushed (PAR) or not.
provider.on('authorization.accepted', (ctx) => {
  const p = ctx.oidc.params;
  stats.authorize.push({
    response_type: p.response_type, response_mode: p.response_mode ?? null, scope: p.scope, state: p.state ?? null,
    nonce: p.nonce ?? null, code_challenge: p.code_challenge ?? null, code_challenge_method: p.code_challenge_method ?? null,
    pushed: ctx.oidc.entities.PushedAuthorizationRequest !== undefined || (p.request_uri ?? '').startsWith('urn:'),
  });
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/_test/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(stats));
    return;
  }
  if (url.pathname === '/_test/mint' && req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { key = 'rsa', claims = {}, header = {} } = JSON.parse(body);
    const k = keys[key];
    const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT', ...header }).sign(k.privateKey);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token }));
    return;
  }
  if (url.pathname === '/jwks') stats.jwks++;
  callback(req, res);
});

console.log(JSON.stringify({ issuer }));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
