// The reference for bench/oidc_vs_node.sh: node's oidc-provider, configured like mvsp for
// the two requests measured (client credentials at the token endpoint, userinfo with an
// opaque access token). Prints {"access_token": …} once listening.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    { client_id: 'machine', client_secret: 'machine-secret-0123456789', grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], scope: 'notices:write' },
    { client_id: 'web', client_secret: 'web-secret-0123456789', grant_types: ['authorization_code'],
      redirect_uris: ['https://rp.example/cb'] },
  ],
  scopes: ['openid', 'email', 'notices:write'],
  features: { clientCredentials: { enabled: true }, userinfo: { enabled: true } },
  // The same lifetimes as mvsp (access tokens 10 minutes).
  ttl: { AccessToken: 600, ClientCredentials: 600, Grant: 3600, IdToken: 3600 },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, email: 'erika.mustermann@example.org', email_verified: true }; } };
  },
});
provider.proxy = false;

const client = await provider.Client.find('web');
const grant = new provider.Grant({ accountId: 'erika', clientId: 'web' });
grant.addOIDCScope('openid email');
const grantId = await grant.save();
const token = await new provider.AccessToken({ accountId: 'erika', client, grantId, scope: 'openid email' }).save();
provider.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ access_token: token })));
