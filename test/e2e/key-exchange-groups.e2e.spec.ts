import { Controller, Get } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { MtlsClientError, TlsConnection, tlsConnectionOf, type TlsConnectionInfo } from 'nest-mtls';
import { sample, scrape, startAdminApp, type AdminApp } from '../support/admin-app';
import { node24Binary } from '../support/node24';
import { requireTool } from '../support/require-tool';
import { runService } from '../support/spawn-service';
import { CapturingLogger, HTTP_ADAPTERS, startWithOptions } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { handshakeOutcome, run } from '../support/tls-probe';
import { waitForLine, waitFor } from '../support/wait-for';
import { getJsonOnce } from '../support/mtls-client-app';

const ROOT = join(__dirname, '..', '..');
const GROUPS_APP = join(ROOT, 'test', 'support', 'groups-app.js');
const OPENSSL = process.versions.openssl;
/** OpenSSL 3.5 (Node 24, and Node 22 from 22.20) knows the hybrid post-quantum group X25519MLKEM768; OpenSSL 3.0 does not. */
const KNOWS_MLKEM = !/^3\.[0-4]\./.test(OPENSSL);

@Controller()
class TlsController {
  @Get('tls')
  tls(@TlsConnection() info: TlsConnectionInfo, @TlsConnection('keyExchangeGroup') group: string) {
    return { ...info, group };
  }
}

/** The TLS facts of one request to `port` with `tls` options, as the handler saw them, and as the client saw them. */
function getTls(port: number, tls: object): Promise<{ status: number; server: any; client: TlsConnectionInfo | undefined }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...tls }, () => {
      const client = tlsConnectionOf(socket);
      socket.write('GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (raw += d));
      socket.on('end', () => {
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw)?.[1]);
        resolve({ status, server: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4) || 'null'), client });
      });
    });
    socket.on('error', reject);
  });
}

/**
 * The key-exchange groups (`groups`, MTLS_GROUPS): checked against the
 * running OpenSSL at startup, given to the server's and the client's secure
 * contexts, and the negotiated group read once per connection into the
 * handler's @TlsConnection(), a debug line and mtls_handshakes_total{group}.
 * Real handshakes throughout; Node 24 (OpenSSL 3.5) for the post-quantum
 * hybrid X25519MLKEM768, in a child process when the suite runs on older Node.
 */
describe('key-exchange groups', () => {
  let pki: TestPki;
  const servers: Server[] = [];

  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    pki?.cleanup();
  });

  describe('startup refuses what the running OpenSSL does not know', () => {
    const env = () => ({ MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12, MTLS_KEY_STORE_PASSWORD: PASSWORD, MTLS_TRUST_STORE_PATH: pki.trustStore });

    it('an unknown group in MTLS_GROUPS stops the service with one line naming it, the variable and the OpenSSL version', async () => {
      const r = await runService('user-service', { ...env(), MTLS_GROUPS: 'X25519:X25519MLKEM9999' });
      expect(r.listened).toBe(false);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`MTLS_GROUPS \\(groups\\): unknown key-exchange group "X25519MLKEM9999": OpenSSL ${OPENSSL.replace(/\./g, '\\.')} \\(Node v[\\d.]+\\) does not offer it$`));
    });

    it('an unknown group in code is refused naming the option and the OpenSSL version', async () => {
      await expect(startWithOptions(pki.pemOptions('user-service', { groups: ['X25519', 'NoSuchCurve'] }), [TlsController])).rejects.toThrow(
        `groups: unknown key-exchange group "NoSuchCurve": OpenSSL ${OPENSSL} (Node ${process.version}) does not offer it`,
      );
    });

    it(`X25519MLKEM768 is ${KNOWS_MLKEM ? 'accepted' : 'refused, naming it'} on OpenSSL ${OPENSSL}`, async () => {
      const r = await runService('user-service', { ...env(), MTLS_GROUPS: 'X25519MLKEM768' });
      if (KNOWS_MLKEM) {
        expect(r.listened).toBe(true);
      } else {
        expect(r.listened).toBe(false);
        expect(r.stderr).toContain(`MTLS_GROUPS (groups): unknown key-exchange group "X25519MLKEM768": OpenSSL ${OPENSSL}`);
      }
    });

    it('a misspelt variable and a misspelt option are refused', async () => {
      const r = await runService('user-service', { ...env(), MTLS_GROUP: 'X25519' });
      expect(r.listened).toBe(false);
      expect(r.stderr).toMatch(/MTLS_GROUP: not a setting of nest-mtls; did you mean MTLS_GROUPS\?$/m);
      await expect(startWithOptions({ ...pki.pemOptions(), group: 'X25519' } as never, [TlsController])).rejects.toThrow(/group: is not an option of MtlsModule; did you mean "groups"\?/);
    });

    it('with TLS 1.2 only, a list without the curve of our P-256 certificate stops startup (the loopback handshake); with it, the service starts', async () => {
      await expect(startWithOptions(pki.pemOptions('user-service', { groups: 'secp384r1', supportedProtocols: ['TLSv1.2'] }), [TlsController])).rejects.toThrow(
        /certPath: the material does not complete a mutual-TLS handshake on loopback/,
      );
      const app = await startWithOptions(pki.pemOptions('user-service', { groups: 'secp384r1:secp256r1', supportedProtocols: ['TLSv1.2'] }), [TlsController]);
      try {
        expect((await getTls(app.port, pki.clientTls('home-page-service'))).server).toMatchObject({ protocol: 'TLSv1.2', keyExchangeGroup: 'secp384r1' });
      } finally {
        await app.close();
      }
    });

    it('OpenSSL 3.5 list syntax and "auto" are refused as names', async () => {
      await expect(startWithOptions(pki.pemOptions('user-service', { groups: '?X25519:X25519' }), [TlsController])).rejects.toThrow(/groups: "\?X25519" is not a key-exchange group name/);
      await expect(startWithOptions(pki.pemOptions('user-service', { groups: 'auto' }), [TlsController])).rejects.toThrow(/groups: leave groups unset/);
    });
  });

  describe.each(HTTP_ADAPTERS)('%s: a server with groups X25519 (in process)', (adapter) => {
    let app: AdminApp;
    let debug: jest.SpyInstance;

    beforeAll(async () => {
      // This spec's apps keep their debug lines too (the handshake line is at debug level).
      debug = jest.spyOn(CapturingLogger.prototype, 'debug').mockImplementation(function (this: CapturingLogger, ...args: unknown[]) {
        this.lines.push(`DEBUG ${String(args[0])}`);
      });
      app = await startAdminApp(pki.pemOptions('user-service', { groups: 'X25519' }), [TlsController], { adapter });
    });
    afterAll(async () => {
      await app?.close();
      debug?.mockRestore();
    });

    it('agrees X25519 with a client offering it: the handler, the debug line and the metric say so', async () => {
      const from = app.logs.lines.length;
      const answer = await getTls(app.port, pki.clientTls('home-page-service'));
      expect(answer.status).toBe(200);
      expect(answer.server).toMatchObject({ protocol: 'TLSv1.3', keyExchangeGroup: 'X25519', group: 'X25519' });
      expect(answer.client?.keyExchangeGroup).toBe('X25519');
      await waitForLine(app.logs.lines, /^DEBUG TLS handshake from 127\.0\.0\.1:\d+: TLSv1\.3 TLS_\w+, key exchange X25519$/, 10_000, from);
      expect(sample(await scrape(app.adminPort!), 'mtls_handshakes_total', { group: 'X25519' })).toBeGreaterThanOrEqual(1);
    });

    it('over TLS 1.2 the list also limits the curve of ECDSA client certificates: a P-256 one is refused, and the log says so', async () => {
      const from = app.logs.lines.length;
      expect(await handshakeOutcome(app.port, { ...pki.clientTls('home-page-service'), maxVersion: 'TLSv1.2' }, '/tls')).toBe('refused');
      const line = await waitForLine(app.logs.lines, /^WARN TLS handshake from 127\.0\.0\.1\S* refused: /, 10_000, from);
      expect(line).toMatch(/refused: protocol \(ERR_SSL_WRONG_CURVE\); hint: over TLS 1\.2 the key-exchange groups \(groups, MTLS_GROUPS\) also limit the curves of ECDSA certificates/);
    });

    it.each([
      ['TLS 1.3', 'TLSv1.3'],
      ['TLS 1.2', 'TLSv1.2'],
    ] as const)('refuses a client offering only P-256 over %s, and logs why', async (_v, version) => {
      const from = app.logs.lines.length;
      const before = sample(await scrape(app.adminPort!), 'mtls_handshake_failures_total', { reason: 'protocol' }) ?? 0;
      expect(await handshakeOutcome(app.port, { ...pki.clientTls('home-page-service'), ecdhCurve: 'prime256v1', maxVersion: version }, '/tls')).toBe('refused');
      const line = await waitForLine(app.logs.lines, /^WARN TLS handshake from 127\.0\.0\.1\S* refused: /, 10_000, from);
      expect(line).toMatch(/refused: protocol \(ERR_SSL_(NO_SUITABLE_KEY_SHARE|NO_SHARED_CIPHER|NO_SHARED_GROUPS)\)/);
      if (version === 'TLSv1.3') expect(line).toContain('hint: the client offers none of the key-exchange groups the server accepts (groups, MTLS_GROUPS)');
      expect(sample(await scrape(app.adminPort!), 'mtls_handshake_failures_total', { reason: 'protocol' })).toBe(before + 1);
    });

    it('counts every group under a bounded label: the refused P-256 client never made a secp256r1 sample', async () => {
      const samples = (await scrape(app.adminPort!)).filter((s) => s.name === 'mtls_handshakes_total');
      expect(samples.map((s) => s.labels.group).sort()).toEqual(['X25519']);
    });
  });

  describe('the outbound client (MtlsHttpClient) offers the configured groups', () => {
    async function upstream(ecdhCurve: string): Promise<{ port: number; seen: string[] }> {
      const cert = pki.certs['user-service'].issued;
      const seen: string[] = [];
      const server = createHttpsServer({ key: cert.keyPem, cert: cert.chainPem, ecdhCurve }, (req, res) => {
        seen.push(tlsConnectionOf(req.socket)?.keyExchangeGroup ?? 'none read');
        res.end('{"ok":true}');
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { port: (server.address() as AddressInfo).port, seen };
    }

    function call(url: string, groups: string): Promise<unknown> {
      return getJsonOnce({ keyStorePath: pki.certs['home-page-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, groups }, url);
    }

    it('agrees secp384r1 with an upstream that takes it (read on the upstream side)', async () => {
      const up = await upstream('secp384r1:X25519');
      expect(await call(`https://localhost:${up.port}/`, 'secp384r1')).toEqual({ ok: true });
      expect(up.seen).toEqual(['secp384r1']);
    });

    it('fails against an upstream that takes only X25519 (kind tls)', async () => {
      const up = await upstream('X25519');
      const err = await call(`https://localhost:${up.port}/`, 'secp384r1');
      expect(err).toBeInstanceOf(MtlsClientError);
      expect((err as MtlsClientError).kind).toBe('tls');
      expect(up.seen).toEqual([]);
    });
  });

  describe('Node 24 (OpenSSL 3.5): hybrid post-quantum key exchange', () => {
    const node24 = node24Binary('the Node 24 key-exchange tests');
    const withCurl = requireTool('curl', 'the post-quantum refusal of curl');
    const describe24 = node24 ? describe : describe.skip;
    const children: ChildProcess[] = [];

    afterAll(() => {
      for (const c of children) c.kill('SIGKILL');
    });

    /** groups-app.js under Node 24 with `env`; resolves with its port and its output so far. */
    function start24(env: Record<string, string>): Promise<{ port: number; output: () => string }> {
      return new Promise((resolve, reject) => {
        const child = spawn(node24!, [GROUPS_APP], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', MTLS_CERT_PATH: pki.certs['user-service'].chain, MTLS_KEY_PATH: pki.certs['user-service'].key, MTLS_TRUST_STORE_PATH: pki.trustStore, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let out = '';
        const timer = setTimeout(() => reject(new Error(`groups-app did not listen under Node 24 within 30 s: ${out}`)), 30_000);
        const seen = (d: Buffer) => {
          out += d.toString();
          const m = /listening on (\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve({ port: Number(m[1]), output: () => out });
          }
        };
        child.stdout.on('data', seen);
        child.stderr.on('data', seen);
        child.on('exit', (code) => reject(new Error(`groups-app exited (${code}): ${out}`)));
      });
    }

    /** One request to /tls from a Node 24 client with home-page-service's certificate: the handler's answer and what the client read. */
    async function node24Client(port: number): Promise<{ server: any; client: TlsConnectionInfo }> {
      const c = pki.certs['home-page-service'];
      const script = `
        const https = require('node:https'); const fs = require('node:fs'); const { tlsConnectionOf } = require('nest-mtls');
        const req = https.request({ host: '127.0.0.1', port: ${port}, path: '/tls', servername: 'localhost', agent: false,
          key: fs.readFileSync(${JSON.stringify(c.key)}), cert: fs.readFileSync(${JSON.stringify(c.chain)}), ca: fs.readFileSync(${JSON.stringify(pki.trustStore)}) }, (res) => {
          const client = tlsConnectionOf(res.socket); let body = ''; res.on('data', (d) => (body += d));
          res.on('end', () => console.log(JSON.stringify({ server: JSON.parse(body), client })));
        });
        req.on('error', (e) => { console.error(e.code || e.message); process.exit(1); }); req.end();`;
      const r = await run(node24!, ['-e', script], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`the Node 24 client failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    }

    describe24('by default', () => {
      it('a Node 24 server and a Node 24 client agree X25519MLKEM768 (both sides read it)', async () => {
        const app = await start24({});
        const { server, client } = await node24Client(app.port);
        expect(server).toMatchObject({ protocol: 'TLSv1.3', keyExchangeGroup: 'X25519MLKEM768' });
        expect(client.keyExchangeGroup).toBe('X25519MLKEM768');
        expect(app.output()).toMatch(/DEBUG \[MtlsServer\] TLS handshake from 127\.0\.0\.1:\d+: TLSv1\.3 TLS_\w+, key exchange X25519MLKEM768/);
      });
    });

    describe24('with MTLS_GROUPS=X25519MLKEM768', () => {
      let app: { port: number; output: () => string };
      beforeAll(async () => (app = await start24({ MTLS_GROUPS: 'X25519MLKEM768' })));

      it('admits the Node 24 client', async () => {
        expect((await node24Client(app.port)).server.keyExchangeGroup).toBe('X25519MLKEM768');
      });

      (withCurl ? it : it.skip)('refuses curl on the system OpenSSL (no ML-KEM), and logs why', async () => {
        const curlVersion = (await run('curl', ['--version'])).stdout;
        const c = pki.certs['home-page-service'];
        const r = await run('curl', ['-sS', '--max-time', '20', '--cert', c.chain, '--key', c.key, '--cacert', pki.trustStore, `https://localhost:${app.port}/tls`]);
        if (/OpenSSL\/3\.[0-4]\./.test(curlVersion)) {
          expect(r.code).not.toBe(0);
          expect(r.stderr).toMatch(/handshake failure|alert/i);
          const refusal = /WARN \[MtlsServer\] TLS handshake from 127\.0\.0\.1:\d+ refused: protocol \(ERR_SSL_NO_SUITABLE_KEY_SHARE\); hint: the client offers none of the key-exchange groups/;
          await waitFor(() => refusal.test(app.output()), `the refusal of curl in the log of groups-app:\n${app.output()}`, 10_000);
        } else {
          throw new Error(`this test needs a curl on OpenSSL before 3.5 (the system's), found: ${curlVersion.split('\n')[0]}`);
        }
      });
    });
  });
});
