// A real OpenID Connect provider (panva/oidc-provider) on loopback, for tests/test_oidc.py only.
//
// Usage: node provider.mjs CONFIG.json
// CONFIG.json gives the signing key (a private RSA JWK chosen by the test, so that the test can also forge
// tokens), the static clients, and ACCOUNTS, a JSON file { accountId: claims } read again at every lookup:
// the test edits it between two logins. The development login and consent pages (devInteractions) accept
// any login and password; the login typed is the account id.
// Once listening, prints one JSON line on stdout: {"issuer": "http://127.0.0.1:PORT"}.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function readAccounts() {
  return JSON.parse(readFileSync(config.accounts, 'utf8'));
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [config.signing_key] },
    cookies: { keys: ['cle-des-cookies-de-test'] },
    pkce: { required: () => true },
    // Seconds; set, so that the provider does not print a notice for each default.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    scopes: ['openid', 'offline_access', 'email', 'phone', 'profile', 'isidoor'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      phone: ['phone_number'],
      profile: ['given_name', 'family_name', 'name'],
      isidoor: ['isidoor_id', 'gabriel_id', 'roles'],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    async findAccount(ctx, id) {
      const claims = readAccounts()[id];
      if (claims === undefined) {
        return undefined;
      }
      return {
        accountId: id,
        async claims() {
          return { ...claims, sub: id };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The test ends the provider by closing its stdin (or by a signal): no orphan survives a crashed test run.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
