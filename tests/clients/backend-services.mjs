// SMART Backend Services by a third-party client library (openid-client): client_credentials with
// private_key_jwt against a running Ignis, then FHIR reads with the token.
//
//   IGNIS_CLIENT_JWK='{"kty":"EC",...,"d":"..."}' node backend-services.mjs <origin> <client_id> <scope> <path>...
//
// Prints one JSON object: {"discovery": {...}, "tokens": [{...}, {...}], "reads": [{"path", "status", "body"}]},
// or {"error": "..."} and exits 1. openid-client signs the assertions (a fresh jti each) and calls the token
// endpoint; SMART wants aud = the token endpoint URL (openid-client's default is the issuer), set through
// its documented modifyAssertion hook.
import * as client from 'openid-client';

const [origin, clientId, scope, ...paths] = process.argv.slice(2);
const jwkText = process.env.IGNIS_CLIENT_JWK;
const print = (value) => console.log(JSON.stringify(value));
if (!origin || !clientId || !scope || !jwkText) {
  print({ error: 'usage: IGNIS_CLIENT_JWK=<private JWK> node backend-services.mjs <origin> <client_id> <scope> <path>...' });
  process.exit(2);
}

try {
  const { kid, alg, crv, ...material } = JSON.parse(jwkText);
  const algorithm = material.kty === 'EC'
    ? { name: 'ECDSA', namedCurve: crv }
    : { name: 'RSASSA-PKCS1-v1_5', hash: alg === 'RS384' ? 'SHA-384' : 'SHA-256' };
  const key = await crypto.subtle.importKey('jwk', { ...material, crv }, algorithm, false, ['sign']);

  let tokenEndpoint;
  const auth = client.PrivateKeyJwt({ key, kid }, {
    [client.modifyAssertion]: (header, payload) => {
      header.typ = 'JWT';
      payload.aud = tokenEndpoint;
    },
  });
  const config = await client.discovery(new URL(origin), clientId, { token_endpoint_auth_method: 'private_key_jwt' }, auth, {
    execute: [client.allowInsecureRequests],
  });
  tokenEndpoint = config.serverMetadata().token_endpoint;

  // The SMART configuration must offer what this client uses.
  const fhirBase = new URL('fhir', origin.endsWith('/') ? origin : origin + '/').href;
  const smart = await (await fetch(`${fhirBase}/.well-known/smart-configuration`)).json();
  if (!smart.token_endpoint_auth_methods_supported?.includes('private_key_jwt')) throw new Error('private_key_jwt is not offered');
  if (!smart.token_endpoint_auth_signing_alg_values_supported?.includes(alg)) throw new Error(`${alg} is not offered`);
  if (!smart.capabilities?.includes('client-confidential-asymmetric')) throw new Error('client-confidential-asymmetric is not advertised');

  // Two tokens in a row: each request carries a new assertion (a new jti), as the server demands.
  const tokens = [];
  for (let i = 0; i < 2; i++) tokens.push(await client.clientCredentialsGrant(config, { scope }));

  const reads = [];
  for (const path of paths) {
    const response = await client.fetchProtectedResource(config, tokens[1].access_token, new URL(`${fhirBase}/${path}`), 'GET');
    reads.push({ path, status: response.status, body: await response.json() });
  }
  print({
    discovery: { token_endpoint: tokenEndpoint, issuer: config.serverMetadata().issuer },
    tokens: tokens.map((t) => ({
      token_type: t.token_type,
      scope: t.scope,
      expires_in: t.expires_in,
      has_refresh_token: typeof t.refresh_token === 'string',
      access_token_length: t.access_token.length,
    })),
    distinct_access_tokens: new Set(tokens.map((t) => t.access_token)).size,
    reads,
  });
  process.exit(0);
} catch (error) {
  print({ error: `${error?.name}: ${error?.message}`, code: error?.code ?? null, cause: error?.cause ?? null });
  process.exit(1);
}
