/**
 * The article (Okta's "TLS Client Authentication for Internal Services") end
 * to end, with its own parts on the other side of the wire:
 *
 * - its Dropwizard connector (test/fixtures/dropwizard/article-config.yml),
 *   carried over by `mtls migrate dropwizard`, applied to the built
 *   user-service, with key and trust stores made the article's way (openssl,
 *   then keytool into JKS); checked with the article's curl commands and
 *   with a Java 17 HttpClient holding JKS or PKCS#12 stores, as its Jersey
 *   client does;
 * - its connector and CertificateValidationFilter on the JDK's own HTTPS
 *   server (needClientAuth, TLSv1.2, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
 *   PKIX with CRL distribution points), called by MtlsHttpClient.
 *
 * The `--dn-regex` part needs `dnFormat` (MTLS_DN_FORMAT=jdk).
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { type MtlsOptions } from 'nest-mtls';
import { ARTICLE_PASSWORD, buildArticleStores, type ArticleStores } from '../support/article-stores';
import { CrlServer } from '../support/crl-server';
import { compileJava, runJava, startJava, type JavaClasses, type RunningJava } from '../support/java-parts';
import { requireTool } from '../support/require-tool';
import { freePort, startService, type RunningService } from '../support/spawn-service';
import { HTTP_ADAPTERS } from '../support/start-app';
import { httpsGet, run, tlsOpen } from '../support/tls-probe';
import { mtlsClientApp, type MtlsClientApp } from '../support/mtls-client-app';

const ROOT = join(__dirname, '..', '..');
const MTLS_BIN = join(ROOT, 'libs', 'mtls', 'bin', 'mtls.js');
const ARTICLE_YAML = join(ROOT, 'test', 'fixtures', 'dropwizard', 'article-config.yml');
/** The article's filter regex for home-page-service: Java's DN (`, ` between RDNs), matched whole. */
const ARTICLE_REGEX = '^CN=home-page-service, OU=Engineering, O=Example, .*$';
const FORBIDDEN = 'Certificate subject is not recognized!';

const needed = ['openssl', 'keytool', 'javac', 'java', 'curl'].map((tool) => requireTool(tool, "the article's parts (openssl, keytool, a JDK, curl)"));
const describeArticle = needed.every(Boolean) ? describe : describe.skip;

/** Waits until the process has printed a line matching `pattern` (event-driven, with a deadline): the match. */
function untilOutput(svc: RunningService, pattern: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = pattern.exec(svc.output());
      if (!found) return false;
      clearTimeout(timer);
      svc.child.stdout?.off('data', onData);
      svc.child.stderr?.off('data', onData);
      resolve(found);
      return true;
    };
    const onData = () => void check();
    const timer = setTimeout(() => {
      svc.child.stdout?.off('data', onData);
      svc.child.stderr?.off('data', onData);
      reject(new Error(`no line matching ${pattern} within ${ms} ms: ${svc.output()}`));
    }, ms);
    if (check()) return;
    svc.child.stdout?.on('data', onData);
    svc.child.stderr?.on('data', onData);
  });
}

describeArticle("the article's Dropwizard setup against nest-mtls, Java on both ends", () => {
  let crl: CrlServer;
  let stores: ArticleStores;
  let java: JavaClasses;
  let yaml: string;

  beforeAll(async () => {
    crl = await CrlServer.start();
    stores = buildArticleStores(`http://127.0.0.1:${crl.port}`);
    for (const [path, body] of Object.entries(stores.crls())) crl.files.set(path, body);
    java = compileJava('ArticleClient.java', 'ArticleServer.java');
    // The article's YAML, its store paths pointing at the stores made here: keystore.jks is user-service's.
    copyFileSync(stores.services['user-service'].jks, stores.path('keystore.jks'));
    copyFileSync(stores.truststoreJks, stores.path('truststore.jks'));
    yaml = stores.write('config.yml', readFileSync(ARTICLE_YAML, 'utf8').replace(/path\/to\//g, `${stores.dir}/`));
  }, 180_000);

  afterAll(async () => {
    await crl?.stop();
    stores?.cleanup();
    java?.cleanup();
  });

  /** `mtls migrate dropwizard` (the built CLI) on the YAML, its output sourced by sh: the variables it sets. */
  async function migratedSettings(...extra: string[]): Promise<{ output: string; env: Record<string, string> }> {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [MTLS_BIN, 'migrate', 'dropwizard', yaml, ...extra], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    const file = stores.write(`settings-${extra.length}.env`, output);
    const sourced = spawnSync('sh', ['-c', 'set -a; . "$0"; set +a; env', file], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(sourced.status).toBe(0);
    const env = Object.fromEntries(
      sourced.stdout
        .split('\n')
        .filter((l) => /^(PORT|HOST|MTLS_[A-Z_]+)=/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    return { output, env };
  }

  const curl = (...args: string[]) => run('curl', ['-sS', '--max-time', '15', ...args]);
  const curlAs = (name: string) => ['--cacert', stores.rootCrt, '--cert', stores.services[name].chain, '--key', stores.services[name].key];
  /** The article's Jersey client on Java 17: JKS (keytool) or PKCS#12 (openssl) key store, and the root in a trust store. */
  const javaClient = (url: string, name: string | undefined, type: 'JKS' | 'PKCS12' = 'JKS') =>
    runJava(java, 'ArticleClient', [
      url,
      name === undefined ? '-' : type === 'JKS' ? stores.services[name].jks : stores.services[name].p12,
      type,
      type === 'JKS' ? stores.truststoreJks : stores.truststoreP12,
      type,
      ARTICLE_PASSWORD,
    ]);

  describe.each(HTTP_ADAPTERS)('user-service (%s) under the settings mtls migrate dropwizard printed for the article\'s connector', (adapter) => {
    let svc: RunningService;
    let port: number;

    beforeAll(async () => {
      const { env } = await migratedSettings();
      // The article's port is 8443; tests run side by side, so the one setting changed here is PORT.
      port = await freePort();
      svc = await startService('user-service', { ...env, PORT: String(port), HTTP_ADAPTER: adapter });
    }, 120_000);

    afterAll(async () => {
      await svc?.stop();
    });

    it("are the article's connector: its stores, CRLDP, client auth, TLS 1.2 and one suite, no renegotiation", async () => {
      const { env } = await migratedSettings();
      expect(env).toEqual({
        PORT: '8443',
        MTLS_KEY_STORE_PATH: stores.path('keystore.jks'),
        MTLS_KEY_STORE_PASSWORD: ARTICLE_PASSWORD,
        MTLS_CERT_ALIAS: 'server-tls',
        MTLS_ENABLE_CRLDP: 'true',
        MTLS_TRUST_STORE_PATH: stores.path('truststore.jks'),
        MTLS_TRUST_STORE_PASSWORD: ARTICLE_PASSWORD,
        MTLS_VALIDATE_CERTS: 'true',
        MTLS_NEED_CLIENT_AUTH: 'true',
        MTLS_VALIDATE_PEERS: 'true',
        MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2',
        MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
        MTLS_ALLOW_RENEGOTIATION: 'false',
      });
    });

    describe("the article's curl checks", () => {
      it('curl localhost: plain HTTP to the TLS port gets no HTTP answer (Empty reply from server)', async () => {
        const r = await curl(`http://localhost:${port}/`);
        expect([52, 56]).toContain(r.code);
        expect(r.stdout).toBe('');
      });

      it('curl https://localhost: our root is not among curl\'s, so the certificate problem (60)', async () => {
        const r = await curl(`https://localhost:${port}/`);
        expect(r.code).toBe(60);
      });

      it('curl -k https://localhost: no client certificate, the server aborts the handshake', async () => {
        const r = await curl('-k', `https://localhost:${port}/`);
        expect([35, 56]).toContain(r.code);
        expect(r.stdout).toBe('');
      });

      it("home-page-service's certificate is allowed; event-service's is refused with 403 and the article's message", async () => {
        const allowed = await curl(...curlAs('home-page-service'), '-w', '\n%{http_code}', `https://localhost:${port}/users/1`);
        expect(allowed.stdout.split('\n')[1]).toBe('200');
        expect(JSON.parse(allowed.stdout.split('\n')[0])).toMatchObject({ id: 1, name: 'Ada Lovelace' });
        const blocked = await curl(...curlAs('event-service'), '-w', '\n%{http_code}', `https://localhost:${port}/users/1`);
        expect(blocked.stdout.split('\n')[1]).toBe('403');
        expect(JSON.parse(blocked.stdout.split('\n')[0])).toEqual({ statusCode: 403, message: FORBIDDEN });
      });

      it('negotiates TLS 1.2 and the article\'s suite, and the CRLs came from the distribution points', async () => {
        const socket: TLSSocket = await tlsOpen(port, {
          ca: readFileSync(stores.rootCrt),
          cert: readFileSync(stores.services['home-page-service'].chain),
          key: readFileSync(stores.services['home-page-service'].key),
        });
        try {
          expect(socket.getProtocol()).toBe('TLSv1.2');
          expect(socket.getCipher().standardName).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
        } finally {
          socket.destroy();
        }
        expect(crl.requests.get('global.crl')).toBeGreaterThan(0);
      });
    });

    describe("the article's Jersey client's role: Java 17's HttpClient with keytool's stores", () => {
      it('home-page-service (JKS key and trust store): 200 with the user', async () => {
        const r = await javaClient(`https://localhost:${port}/users/1`, 'home-page-service');
        expect(r.stdout.split('\n')[0]).toBe('STATUS 200');
        expect(JSON.parse(r.stdout.split('\n')[1])).toMatchObject({ id: 1, name: 'Ada Lovelace' });
      });

      it("event-service: 403 with the article's message", async () => {
        const r = await javaClient(`https://localhost:${port}/users/1`, 'event-service');
        expect(r.stdout.split('\n')[0]).toBe('STATUS 403');
        expect(JSON.parse(r.stdout.split('\n')[1])).toEqual({ statusCode: 403, message: FORBIDDEN });
      });

      it('PKCS#12 stores (openssl pkcs12 -export, keytool -storetype PKCS12) work the same', async () => {
        const r = await javaClient(`https://localhost:${port}/users/1`, 'home-page-service', 'PKCS12');
        expect(r.stdout.split('\n')[0]).toBe('STATUS 200');
      });

      it('without a key store: refused in the handshake, no HTTP answer', async () => {
        const r = await javaClient(`https://localhost:${port}/users/1`, undefined);
        expect(r.status).toBe(3);
        expect(r.stdout).toMatch(/^ERROR javax\.net\.ssl\.SSLHandshakeException: /);
        expect(r.stdout).not.toContain('STATUS');
      });
    });
  });

  describe('with --dn-regex (the CertificateValidationFilter\'s regex): needs dnFormat (MTLS_DN_FORMAT=jdk)', () => {
    let svc: RunningService;
    let port: number;

    beforeAll(async () => {
      const migrated = await migratedSettings('--dn-regex', ARTICLE_REGEX);
      expect(migrated.env.MTLS_DN_FORMAT).toBe('jdk');
      port = await freePort();
      svc = await startService('user-service', { ...migrated.env, PORT: String(port), LOG_LEVEL: 'debug' });
    }, 120_000);

    afterAll(async () => {
      await svc?.stop();
    });

    it('user-service sees the caller as Java prints it; home-page-service gets in, event-service gets the article\'s 403', async () => {
      const allowed = await javaClient(`https://localhost:${port}/users/1`, 'home-page-service');
      expect(allowed.stdout.split('\n')[0]).toBe('STATUS 200');
      // users.controller logs `user 1 read by <@ClientCert('subject')>` at debug level.
      // The subject ends where the line (or the logger's colour code) does.
      const [, subject] = await untilOutput(svc, /user 1 read by ([^\n\x1b]*)/);
      expect(subject).toBe(stores.services['home-page-service'].javaSubject);
      const blocked = await javaClient(`https://localhost:${port}/users/1`, 'event-service');
      expect(blocked.stdout.split('\n')[0]).toBe('STATUS 403');
      expect(JSON.parse(blocked.stdout.split('\n')[1])).toEqual({ statusCode: 403, message: FORBIDDEN });
    });

    it('the migrated regex decides as Java\'s Matcher.matches() does (mtls explain --dn-format jdk)', async () => {
      const explain = (name: string) => run(process.execPath, [MTLS_BIN, 'explain', stores.services[name].cert, '--dn-format', 'jdk', '--policy', ARTICLE_REGEX]);
      const home = await explain('home-page-service');
      expect(home.code).toBe(0);
      expect(home.stdout).toContain(`subject: ${stores.services['home-page-service'].javaSubject}\n`);
      expect((await explain('event-service')).code).toBe(3);
    });
  });

  describe("the article's connector and filter on the JDK's HTTPS server, called by MtlsHttpClient", () => {
    let server: RunningJava;
    let crlRequestsBefore: number;

    beforeAll(async () => {
      const s = stores.services['user-service'];
      crlRequestsBefore = crl.requests.get('global.crl') ?? 0;
      server = await startJava(java, 'ArticleServer', [s.jks, 'JKS', stores.truststoreJks, 'JKS', ARTICLE_PASSWORD, ARTICLE_REGEX, '--crldp']);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
    });

    /** MtlsHttpClient of an application whose MtlsModule holds `name`'s stores, made the article's way. */
    function clientAs(name: string, extra: Partial<MtlsOptions> = {}): Promise<MtlsClientApp> {
      return mtlsClientApp({
        keyStorePath: stores.services[name].jks,
        keyStorePassword: ARTICLE_PASSWORD,
        trustStorePath: stores.truststoreJks,
        trustStorePassword: ARTICLE_PASSWORD,
        ...extra,
      });
    }

    it('home-page-service\'s material: 200, and the server saw its DN as Java prints it; the CRLs were fetched from the distribution points', async () => {
      const { client, close } = await clientAs('home-page-service');
      try {
        const r = await client.request(`https://localhost:${server.port}/users/1`);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toEqual({ subject: stores.services['home-page-service'].javaSubject });
      } finally {
        await close();
      }
      expect(crl.requests.get('global.crl') ?? 0).toBeGreaterThan(crlRequestsBefore);
    });

    it("event-service's material: the filter's 403 with its message, which MtlsHttpClient reads", async () => {
      const { client, close } = await clientAs('event-service');
      try {
        const r = await client.request(`https://localhost:${server.port}/users/1`);
        expect(r.status).toBe(403);
        expect(JSON.parse(r.body)).toEqual({ message: FORBIDDEN });
      } finally {
        await close();
      }
    });

    it('TLS 1.2 and the article\'s suite are what it speaks: our TLS 1.3-only client is refused', async () => {
      const { client, close } = await clientAs('home-page-service', { supportedProtocols: ['TLSv1.3'] });
      try {
        await expect(client.request(`https://localhost:${server.port}/`)).rejects.toMatchObject({ kind: 'tls' });
      } finally {
        await close();
      }
      const socket = await tlsOpen(server.port, {
        ca: readFileSync(stores.rootCrt),
        cert: readFileSync(stores.services['home-page-service'].chain),
        key: readFileSync(stores.services['home-page-service'].key),
      });
      try {
        expect(socket.getProtocol()).toBe('TLSv1.2');
        expect(socket.getCipher().standardName).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
      } finally {
        socket.destroy();
      }
    });

    it('a call without our certificate is refused in the handshake', async () => {
      const outcome = await httpsGet(server.port, '/', { ca: readFileSync(stores.rootCrt) }).then(
        (answer) => `answered ${answer.status}`,
        (err: NodeJS.ErrnoException) => `refused (${err.code ?? err.message})`,
      );
      expect(outcome).toMatch(/^refused \(/);
    });
  });
});
