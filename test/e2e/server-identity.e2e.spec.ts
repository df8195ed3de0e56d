import { randomBytes } from 'node:crypto';
import { Agent, createServer, get as httpsGetRaw, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MtlsClientError, MtlsHttpClient, identityFromCertificate } from 'nest-mtls';
import { MtlsOutboundAgent } from 'nest-mtls/internal';
import { PASSWORD, spiffe, TestPki } from '../support/test-pki';
import { mtlsClientApp } from '../support/mtls-client-app';

interface TestServer {
  port: number;
  /** One entry per request that reached the server: whether its TLS session was resumed. */
  requests: Array<{ resumed: boolean }>;
  close(): Promise<void>;
}

/**
 * The client checks who the server is, besides its name: `serverIdentity` on
 * MtlsHttpClient, over real TLS, on full handshakes, kept-alive connections
 * and resumed sessions (where Node shows no server certificate at all).
 */
describe('MtlsHttpClient: serverIdentity', () => {
  let pki: TestPki;
  let client: MtlsHttpClient;
  let closeClient: () => Promise<void>;
  let ctxAgent: () => Agent;
  const servers: TestServer[] = [];
  const ticketKeys = randomBytes(48);

  /** An HTTPS server with `name`'s certificate; `close: true` ends every connection after its answer (the next call resumes a session). */
  async function server(name: string, { close = false } = {}): Promise<TestServer> {
    const own = pki.certs[name].issued;
    const requests: TestServer['requests'] = [];
    const srv: Server = createServer({ key: own.keyPem, cert: own.chainPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: true, ticketKeys }, (req, res) => {
      requests.push({ resumed: (req.socket as TLSSocket).isSessionReused() });
      if (close) res.setHeader('connection', 'close');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ served: name }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const running: TestServer = {
      port: (srv.address() as AddressInfo).port,
      requests,
      close: () => new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
    };
    servers.push(running);
    return running;
  }

  async function failure(p: Promise<unknown>): Promise<MtlsClientError> {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(MtlsClientError);
      return err as MtlsClientError;
    }
    throw new Error('expected the call to fail');
  }

  beforeAll(async () => {
    pki = await TestPki.create();
    const app = await mtlsClientApp({ keyStorePath: pki.certs['home-page-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore });
    client = app.client;
    ctxAgent = () => app.get(MtlsOutboundAgent).current().agent;
    closeClient = () => app.close();
  });

  afterAll(async () => {
    await closeClient?.();
    for (const s of servers) await s.close();
    pki?.cleanup();
  });

  it('a server that matches the rule answers', async () => {
    const userService = await server('user-service');
    const url = `https://localhost:${userService.port}/users`;
    expect(await client.getJson(url, { serverIdentity: { spiffeId: spiffe('user-service') } })).toEqual({ served: 'user-service' });
    expect(await client.getJson(url, { serverIdentity: /^CN=user-service,/ })).toEqual({ served: 'user-service' });
    expect(await client.getJson(url, { serverIdentity: { dns: 'localhost', spiffeTrustDomain: 'example.org' } })).toEqual({ served: 'user-service' });
  });

  it('a server with a valid certificate for the name but another identity: kind tls, naming expected and found, and no request sent', async () => {
    const impostor = await server('event-service'); // trusted, and its certificate names localhost
    const err = await failure(client.getJson(`https://localhost:${impostor.port}/users`, { serverIdentity: { spiffeId: spiffe('user-service') } }));
    expect(err.kind).toBe('tls');
    expect(err.code).toBe('ERR_MTLS_CLIENT_TLS');
    expect(err.serverIdentity).toEqual({ expected: `SPIFFE ID is ${spiffe('user-service')}`, found: `${spiffe('event-service')} (CN=event-service,O=nest-mtls)` });
    expect(err.message).toBe(
      `refused the certificate of https://localhost:${impostor.port}/users: the server is not who the call requires (serverIdentity): expected SPIFFE ID is ${spiffe('user-service')}, found ${spiffe('event-service')} (CN=event-service,O=nest-mtls)`,
    );
    expect(impostor.requests).toEqual([]);
  });

  it('holds on resumed sessions: the identity of the first handshake is kept with the session', async () => {
    const userService = await server('user-service', { close: true });
    const url = `https://localhost:${userService.port}/users`;
    const rule = { serverIdentity: { spiffeId: spiffe('user-service') } };
    for (let i = 0; i < 3; i++) expect(await client.getJson(url, rule)).toEqual({ served: 'user-service' });
    expect(userService.requests.map((r) => r.resumed)).toEqual([false, true, true]);
    const err = await failure(client.getJson(url, { serverIdentity: { spiffeId: spiffe('event-service') } }));
    expect(err.serverIdentity?.found).toBe(`${spiffe('user-service')} (CN=user-service,O=nest-mtls)`);
    expect(userService.requests).toHaveLength(3);
  });

  it('a resumed session is judged by the identity kept with it (white box: a kept identity that does not match fails the call)', async () => {
    const userService = await server('user-service', { close: true });
    const url = `https://localhost:${userService.port}/users`;
    const rule = { serverIdentity: { spiffeId: spiffe('user-service') } };
    expect(await client.getJson(url, rule)).toEqual({ served: 'user-service' });
    const agent = ctxAgent() as unknown as { sessions: Map<string, { identity: unknown }> };
    const kept = [...agent.sessions.entries()].filter(([name]) => name.includes(`:${userService.port}:`));
    expect(kept).toHaveLength(1);
    kept[0][1].identity = identityFromCertificate(pki.certs['event-service'].issued.certificate);
    const err = await failure(client.getJson(url, rule));
    expect(err.serverIdentity?.found).toBe(`${spiffe('event-service')} (CN=event-service,O=nest-mtls)`);
    expect(userService.requests.map((r) => r.resumed)).toEqual([false]); // the resumed connection was closed before the request
  });

  it('never resumes a session, or reuses a connection, across identities', async () => {
    for (const close of [true, false]) {
      const userService = await server('user-service', { close });
      const url = `https://localhost:${userService.port}/users`;
      // A call without a rule leaves a session (and, without close, an idle kept-alive connection) behind.
      expect(await client.getJson(url)).toEqual({ served: 'user-service' });
      const err = await failure(client.getJson(url, { serverIdentity: { spiffeId: spiffe('event-service') } }));
      expect(err.kind).toBe('tls');
      expect(userService.requests).toHaveLength(1);
    }
  });

  /**
   * Node fixed this in 22.23.2 and 24.18.1 (CVE-2026-58040: a request with its
   * own checkServerIdentity gets no cached session); Node 20 (end of life) and
   * older 22/24 releases still have it. MtlsHttpClient does not rely on either.
   */
  it("the pitfall it avoids: Node's own agent resumes a session without calling checkServerIdentity (where Node is not patched)", async () => {
    const userService = await server('user-service', { close: true });
    const agent = new Agent({ ...pki.clientTls('home-page-service'), keepAlive: false });
    const call = (check?: () => Error) =>
      new Promise<number>((resolve, reject) => {
        httpsGetRaw({ host: 'localhost', port: userService.port, path: '/', agent, ...(check ? { checkServerIdentity: check } : {}) }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    try {
      expect(await call()).toBe(200);
      if (nodeChecksIdentityOnReuse(process.versions.node)) {
        // Patched: the check runs on a full handshake, and refuses.
        await expect(call(() => new Error('not this server'))).rejects.toThrow('not this server');
        expect(userService.requests.map((r) => r.resumed)).toEqual([false]);
      } else {
        // A check that refuses every server: skipped, because the session is resumed.
        expect(await call(() => new Error('not this server'))).toBe(200);
        expect(userService.requests.map((r) => r.resumed)).toEqual([false, true]);
      }
    } finally {
      agent.destroy();
    }
  });

  it('a malformed rule is a TypeError naming it, before any connection', async () => {
    await expect(client.getJson('https://localhost:1/x', { serverIdentity: { spiffeId: 'spiffe://Example.org/x' } })).rejects.toThrow(
      'serverIdentity: spiffeId "spiffe://Example.org/x" is not a SPIFFE ID: the trust domain must be lowercase',
    );
  });
});

/** Whether Node's https agent binds session reuse to a request's own checkServerIdentity (CVE-2026-58040: 22.23.2, 24.18.1, and every major after 24). */
function nodeChecksIdentityOnReuse(version: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number);
  if (major === 22) return minor > 23 || (minor === 23 && patch >= 2);
  if (major === 24) return minor > 18 || (minor === 18 && patch >= 1);
  return major > 24;
}
