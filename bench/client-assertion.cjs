#!/usr/bin/env node
// Cost of verifying one private_key_jwt client assertion per algorithm, as the gateway does it
// (jose jwtVerify against a registered JWK Set plus the docs/api.md §5 claim checks), without the
// jti store. Needs `npm run build` first. Prints one JSON line per algorithm.
//
//   node bench/client-assertion.cjs [--iterations 3000]
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } = require('jose');
const { verifyClientAssertion } = require('../dist/src/client-auth/client-assertion.js');

const i = process.argv.indexOf('--iterations');
const iterations = i > 0 ? Number(process.argv[i + 1]) : 3000;
const issuer = 'http://localhost:8080';

(async () => {
  for (const alg of ['ES256', 'EdDSA', 'PS256', 'RS256']) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg }] });
    const now = Math.floor(Date.now() / 1000);
    const assertions = await Promise.all(
      Array.from({ length: iterations }, () =>
        new SignJWT({ iss: 'c', sub: 'c', aud: issuer, iat: now, exp: now + 300, jti: randomUUID() }).setProtectedHeader({ alg, kid: 'k1' }).sign(privateKey),
      ),
    );
    const options = { clientId: 'c', audiences: [issuer], algorithms: [alg], keys };
    for (const assertion of assertions.slice(0, 200)) await verifyClientAssertion(assertion, options); // warm-up
    const started = performance.now();
    for (const assertion of assertions) await verifyClientAssertion(assertion, options);
    const ms = performance.now() - started;
    console.log(
      JSON.stringify({ alg, iterations, us_per_verification: Math.round((ms * 1000) / iterations), verifications_per_s: Math.round(iterations / (ms / 1000)) }),
    );
  }
})();
