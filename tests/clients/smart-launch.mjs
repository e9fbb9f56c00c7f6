// A SMART standalone launch by a third-party client library (openid-client), against a running Ignis.
//
//   node smart-launch.mjs <origin> <client_id> <redirect_uri> <scope>
//
// Protocol with the caller, one JSON object per line:
//   1. prints {"authorize_url": "..."}: the caller signs in and consents in a browser;
//   2. reads one line from stdin: the URL the browser was redirected to (the app's redirect_uri with code and state);
//   3. prints {"token": {...}, "patient": {"status": ..., "body": {...}}}, or {"error": "..."} and exits 1.
// openid-client does the discovery, PKCE S256, state check, code exchange and ID token validation.
import * as client from 'openid-client';
import { createInterface } from 'node:readline';

const [origin, clientId, redirectUri, scope] = process.argv.slice(2);
if (!origin || !clientId || !redirectUri || !scope) {
  console.log(JSON.stringify({ error: 'usage: node smart-launch.mjs <origin> <client_id> <redirect_uri> <scope>' }));
  process.exit(2);
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const print = (value) => console.log(JSON.stringify(value));

try {
  // OpenID Connect discovery at {origin}/.well-known/openid-configuration; the issuer must be the origin.
  // Plain http is allowed for the loopback test server only.
  const config = await client.discovery(new URL(origin), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });

  // The SMART configuration names the FHIR base the token is meant for (aud) and must offer S256.
  const fhirBase = new URL('fhir', origin.endsWith('/') ? origin : origin + '/').href;
  const smart = await (await fetch(`${fhirBase}/.well-known/smart-configuration`)).json();
  if (!smart.code_challenge_methods_supported?.includes('S256')) throw new Error('the server does not offer PKCE S256');

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizeUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    aud: fhirBase,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  print({ authorize_url: authorizeUrl.href });

  const { value: callback, done } = await lines.next();
  if (done) throw new Error('no redirect URL on stdin');

  const tokens = await client.authorizationCodeGrant(config, new URL(callback.trim()), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  const claims = tokens.claims();

  const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(`${fhirBase}/Patient/${tokens.patient}`), 'GET');
  print({
    token: {
      token_type: tokens.token_type,
      scope: tokens.scope,
      patient: tokens.patient,
      expires_in: tokens.expires_in,
      has_refresh_token: typeof tokens.refresh_token === 'string',
      id_token_fhirUser: claims?.fhirUser ?? null,
      id_token_sub: claims?.sub ?? null,
    },
    patient: { status: response.status, body: await response.json() },
  });
  process.exit(0);
} catch (error) {
  print({ error: `${error?.name}: ${error?.message}`, code: error?.code ?? null, cause: error?.cause ?? null });
  process.exit(1);
}
