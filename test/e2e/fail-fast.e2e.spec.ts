import { join } from 'node:path';
import { runNodeService, runService, type ServiceRun } from '../support/spawn-service';
import { PASSWORD, TestPki } from '../support/test-pki';

/**
 * Every bad setting or file stops user-service before it listens: exit code
 * != 0 and one line on stderr naming the setting or file and the problem;
 * a setting given by a variable is named as `MTLS_VARIABLE (option)`.
 * These start the real built service as a separate process.
 */
describe('user-service fails fast on bad configuration', () => {
  let pki: TestPki;
  let good: Record<string, string>;

  beforeAll(async () => {
    pki = await TestPki.create();
    good = {
      MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      MTLS_CRL_PATH: pki.crlAll,
    };
    await pki.issue('rsa-1024', { subject: 'CN=user-service,O=nest-mtls', keyAlgorithm: 'rsa', modulusLength: 1024, dns: ['localhost'] });
  });
  afterAll(() => pki?.cleanup());

  it('starts with good settings (the baseline the cases below break)', async () => {
    const run = await runService('user-service', good);
    expect(run.listened).toBe(true);
  });

  it('starts on Fastify with HTTP_ADAPTER=fastify (the same settings, the same checks)', async () => {
    const run = await runService('user-service', { ...good, HTTP_ADAPTER: 'fastify' });
    expect(run.listened).toBe(true);
  });

  it('starts with MTLS_ENABLE_CRLDP=false (a ported Dropwizard setting that asks for nothing)', async () => {
    const run = await runService('user-service', { ...good, MTLS_ENABLE_CRLDP: 'false' });
    expect(run.listened).toBe(true);
  });

  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    ['a missing key store', () => ({ ...good, MTLS_KEY_STORE_PATH: '/nonexistent/server.p12' }), /MTLS_KEY_STORE_PATH \(keyStorePath\): file not found: \/nonexistent\/server\.p12$/],
    ['a wrong key store password', () => ({ ...good, MTLS_KEY_STORE_PASSWORD: 'wrong' }), /MTLS_KEY_STORE_PASSWORD \(keyStorePassword\): wrong password for .*user-service\.p12$/],
    ['a garbage key store', () => ({ ...good, MTLS_KEY_STORE_PATH: pki.write('garbage.p12', 'not a key store at all') }), /MTLS_KEY_STORE_PATH \(keyStorePath\): .*garbage\.p12/],
    ['a key that does not match the certificate', () => ({ ...good, MTLS_KEY_STORE_PATH: '', MTLS_CERT_PATH: pki.certs['user-service'].chain, MTLS_KEY_PATH: pki.certs['event-service'].key }), /MTLS_KEY_PATH \(keyPath\): private key does not match the certificate/],
    ['an expired certificate of our own', () => ({ ...good, MTLS_KEY_STORE_PATH: pki.certs.expired.p12 }), /MTLS_KEY_STORE_PATH \(keyStorePath\): the certificate CN=home-page-service from .* expired on/],
    ['a chain that does not reach the trust store', () => ({ ...good, MTLS_KEY_STORE_PATH: pki.certs.untrusted.p12 }), /validateCerts: the certificate CN=home-page-service .* does not chain to a CA in .*truststore\.pem/],
    ['a certificate without the serverAuth EKU', () => ({ ...good, MTLS_KEY_STORE_PATH: pki.certs['client-only-eku'].p12 }), /MTLS_KEY_STORE_PATH \(keyStorePath\): the certificate .* lacks the serverAuth extended key usage$/],
    ['a missing trust store', () => ({ ...good, MTLS_TRUST_STORE_PATH: '/nonexistent/ca.pem' }), /MTLS_TRUST_STORE_PATH \(trustStorePath\): file not found: \/nonexistent\/ca\.pem$/],
    ['no trust store at all', () => ({ ...good, MTLS_TRUST_STORE_PATH: '' }), /: trustStorePath: required/],
    ['TLS 1.1 among the protocols', () => ({ ...good, MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.1,TLSv1.2' }), /MTLS_SUPPORTED_PROTOCOLS \(supportedProtocols\): TLSv1\.1 is refused/],
    ['an unknown key-exchange group', () => ({ ...good, MTLS_GROUPS: 'X25519:X25519MLKEM9999' }), /MTLS_GROUPS \(groups\): unknown key-exchange group "X25519MLKEM9999": OpenSSL \d+\.\d+\.\d+ \(Node v[\d.]+\) does not offer it$/],
    ['an unknown cipher suite', () => ({ ...good, MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA999' }), /MTLS_SUPPORTED_CIPHER_SUITES \(supportedCipherSuites\): unknown cipher suite "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA999"/],
    ['TLS 1.2 suites that cannot work with our EC key', () => ({ ...good, MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2', MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' }), /MTLS_SUPPORTED_CIPHER_SUITES \(supportedCipherSuites\): none of the TLS 1\.2 suites can be used with the EC key/],
    ['a 1024-bit RSA key of our own', () => ({ ...good, MTLS_KEY_STORE_PATH: pki.certs['rsa-1024'].p12 }), /MTLS_KEY_STORE_PATH \(keyStorePath\): the key of CN=user-service in .*rsa-1024\.p12.* is 1024-bit RSA; securityLevel 2 needs RSA keys of at least 2048 bits or EC keys of at least P-256$/],
    ['a 1024-bit RSA key with the static-RSA suite TLS_RSA_WITH_AES_128_CBC_SHA', () => ({ ...good, MTLS_KEY_STORE_PATH: pki.certs['rsa-1024'].p12, MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2', MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_RSA_WITH_AES_128_CBC_SHA' }), /MTLS_KEY_STORE_PATH \(keyStorePath\): the key of CN=user-service .* is 1024-bit RSA; securityLevel 2 needs/],
    ['a security level below 2', () => ({ ...good, MTLS_SECURITY_LEVEL: '1' }), /MTLS_SECURITY_LEVEL \(securityLevel\): must be a whole number from 2 to 5 \(an OpenSSL security level\), got 1$/],
    ['a security level that is not a number', () => ({ ...good, MTLS_SECURITY_LEVEL: 'abc' }), /MTLS_SECURITY_LEVEL \(securityLevel\): expected a whole number, got "abc"$/],
    ['a boolean that is not one', () => ({ ...good, MTLS_NEED_CLIENT_AUTH: 'maybe' }), /MTLS_NEED_CLIENT_AUTH \(needClientAuth\): expected true or false, got "maybe"$/],
    ['a CRL file without the intermediate CA\'s CRL', () => ({ ...good, MTLS_CRL_PATH: pki.crlRootOnly }), /MTLS_CRL_PATH \(crlPath\): no CRL signed by CA CN=Test Global CA/],
    ['an expired CRL', () => ({ ...good, MTLS_CRL_PATH: pki.crlExpired }), /MTLS_CRL_PATH \(crlPath\): the CRL of CA CN=Test Global CA .* expired on/],
    ['a missing CRL file', () => ({ ...good, MTLS_CRL_PATH: '/nonexistent/crl.pem' }), /MTLS_CRL_PATH \(crlPath\): file not found: \/nonexistent\/crl\.pem$/],
    ['no material in production', () => ({ NODE_ENV: 'production' }), /: keyStorePath: no key material/],
    ['a misspelt variable (validatePeers would silently stay true)', () => ({ ...good, MTLS_VALIDATE_PEER: 'false' }), /: MTLS_VALIDATE_PEER: not a setting of nest-mtls; did you mean MTLS_VALIDATE_PEERS\?$/],
    ['a misspelt CRL variable (no CRL would be checked)', () => ({ ...good, MTLS_CRL_PATH: '', MTLS_CRL_PTH: pki.crlAll }), /: MTLS_CRL_PTH: not a setting of nest-mtls; did you mean MTLS_CRL_PATH\?$/],
    ['an unknown CRL check mode', () => ({ ...good, MTLS_CRL_CHECK: 'everything' }), /: MTLS_CRL_CHECK \(crlCheck\): must be one of the following values: chain, leaf$/],
    ['a CRL file with validatePeers false (Dropwizard would ignore it)', () => ({ ...good, MTLS_VALIDATE_PEERS: 'false' }), /: MTLS_CRL_PATH \(crlPath\): is a revocation setting, but validatePeers is false \(MTLS_VALIDATE_PEERS=false\), which turns revocation checking off/],
    ['an OCSP responder over https', () => ({ ...good, MTLS_OCSP: 'true', MTLS_OCSP_RESPONDER_URL: 'https://ocsp.example/' }), /: MTLS_OCSP_RESPONDER_URL \(ocspResponderUrl\): must be an http: URL/],
    ['a bad PORT', () => ({ ...good, PORT: 'eighty' }), /PORT: expected a port number, got "eighty"/],
    ['an HTTP adapter it does not have', () => ({ ...good, HTTP_ADAPTER: 'koa' }), /^user-service: cannot start: HTTP_ADAPTER: expected one of express, fastify, got "koa"$/],
    ['a certificate without the serverAuth EKU, on Fastify', () => ({ ...good, HTTP_ADAPTER: 'fastify', MTLS_KEY_STORE_PATH: pki.certs['client-only-eku'].p12 }), /MTLS_KEY_STORE_PATH \(keyStorePath\): the certificate .* lacks the serverAuth extended key usage$/],
  ];

  // Each case is its own process: they are started a few at a time (beforeAll), each test then judges its run.
  const runs = new Map<string, Promise<ServiceRun>>();
  beforeAll(async () => {
    await inParallel(cases, 3, async ([what, env]) => {
      const run = runService('user-service', env());
      runs.set(what, run);
      await run;
    });
  }, 300_000);

  it.each(cases)('refuses %s', async (what, _env, message) => {
    const run = await runs.get(what)!;
    expect(run.listened).toBe(false);
    expect(run.code).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    const last = lines[lines.length - 1];
    expect(last).toMatch(/^user-service: (configuration error|cannot start): /);
    expect(last).toMatch(message);
    expect(run.stderr + run.stdout).not.toContain(PASSWORD);
    expect(run.stderr).not.toMatch(/BEGIN .*PRIVATE KEY/);
  });

  /**
   * Nest's ExceptionHandler logs an error thrown while it creates the
   * application, and the bootstrap's catch prints it again: with
   * MtlsConsoleLogger (the demo services, and the README's bootstrap) it is
   * said once, as the one line, in text and JSON.
   */
  const DOCUMENTED_BOOTSTRAP = join(__dirname, '..', 'fixtures', 'documented-bootstrap', 'main.js');
  it.each([
    ['user-service', {}],
    ['user-service', { LOG_FORMAT: 'json' }],
    ['user-service', { HTTP_ADAPTER: 'fastify' }],
    ['home-page-service', {}],
    ['event-service', { LOG_FORMAT: 'json' }],
    ['the README\'s bootstrap', {}],
  ])('%s %j says a startup error once, in one line', async (app, extra) => {
    const env = { ...good, MTLS_KEY_STORE_PATH: '/nonexistent/server.p12', ...extra, ...(app === 'user-service' ? {} : { USER_SERVICE_URL: 'https://localhost:8443' }) };
    const run = app.startsWith('the README') ? await runNodeService(DOCUMENTED_BOOTSTRAP, env) : await runService(app, env);
    expect(run.listened).toBe(false);
    expect(run.code).toBe(1);
    const mentions = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.includes('/nonexistent/server.p12'));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toMatch(/(^|"message":")[a-z-]+: configuration error: MTLS_KEY_STORE_PATH \(keyStorePath\): file not found: \/nonexistent\/server\.p12/);
  });

  it('home-page-service (it only calls) refuses a certificate without the clientAuth EKU, naming the variable', async () => {
    const run = await runService('home-page-service', {
      MTLS_KEY_STORE_PATH: pki.certs['server-only-eku'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
    });
    expect(run.listened).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n').pop()).toMatch(
      /^home-page-service: configuration error: MTLS_KEY_STORE_PATH \(keyStorePath\): the certificate CN=home-page-service .* lacks the clientAuth extended key usage$/,
    );
  });

  it.each([
    ['home-page-service', 'not-a-url', /^home-page-service: cannot start: USER_SERVICE_URL: not a URL: "not-a-url"$/],
    ['event-service', 'http://localhost:8443', /^event-service: cannot start: USER_SERVICE_URL: expected an https:\/\/ URL \(mutual TLS\), got "http:\/\/localhost:8443"$/],
  ])('%s refuses a bad USER_SERVICE_URL', async (app, url, message) => {
    const clientEnv = {
      MTLS_KEY_STORE_PATH: pki.certs[app].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      USER_SERVICE_URL: url,
    };
    const run = await runService(app, clientEnv);
    expect(run.listened).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n').pop()).toMatch(message);
  });
});

/** Runs `task` on every item, `parallel` at a time. */
async function inParallel<T>(items: T[], parallel: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}
