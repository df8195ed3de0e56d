/**
 * `mtls migrate dropwizard`: the mapping of each Dropwizard HTTPS connector
 * key, the command on the article's YAML (test/fixtures/dropwizard), and
 * Dropwizard names used where ours belong (an MTLS_* variable, an option in
 * code) answered with ours.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mtlsOptionsFromEnv } from 'nest-mtls';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { DROPWIZARD_HTTPS_KEYS } from 'nest-mtls/internal';
import { MTLS_ENV } from 'nest-mtls/internal';
import { migrateApplicationConnector, type ConnectorMigration } from 'nest-mtls/internal';
import { shellValue } from 'nest-mtls/internal';
import { main } from 'nest-mtls/internal';
import { configProblem } from '../support/config-problem';
import { TempDir } from '../support/temp-dir';

const FIXTURES = join(__dirname, '..', 'fixtures', 'dropwizard');
const ARTICLE_YAML = join(FIXTURES, 'article-config.yml');
/** The article's filter regex for home-page-service, written against Java's DN (`, ` between RDNs), matched whole. */
const ARTICLE_REGEX = '^CN=home-page-service, OU=Engineering, O=Example, .*$';

async function mtls(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

/** The `NAME=value` lines of the output, in order. */
const settingLines = (out: string) => out.split('\n').filter((l) => /^[A-Z_]+=/.test(l));

const BASE = { type: 'https', keyStorePath: '/etc/mtls/server.p12', trustStorePath: '/etc/mtls/trust.pem' };
const migrate = (fields: Record<string, unknown>, dnRegex?: string): ConnectorMigration =>
  migrateApplicationConnector({ where: 'server.applicationConnectors[0]', role: 'application', type: (fields.type as string | undefined) ?? 'https', fields: { ...BASE, ...fields } }, { dnRegex });
const env = (m: ConnectorMigration) => Object.fromEntries(m.settings.map((s) => [s.name, s.value]));

describe('mtls migrate dropwizard on the article\'s YAML', () => {
  it('prints one MTLS_* line per connector key, PORT first, in the order of the YAML, and exits 0', async () => {
    const r = await mtls('migrate', 'dropwizard', ARTICLE_YAML);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(settingLines(r.stdout)).toEqual([
      'PORT=8443',
      'MTLS_KEY_STORE_PATH=path/to/keystore.jks',
      'MTLS_KEY_STORE_PASSWORD=notsecret',
      'MTLS_CERT_ALIAS=server-tls',
      'MTLS_ENABLE_CRLDP=true',
      'MTLS_TRUST_STORE_PATH=path/to/truststore.jks',
      'MTLS_TRUST_STORE_PASSWORD=notsecret',
      'MTLS_VALIDATE_CERTS=true',
      'MTLS_NEED_CLIENT_AUTH=true',
      'MTLS_VALIDATE_PEERS=true',
      'MTLS_SUPPORTED_PROTOCOLS=TLSv1.2',
      'MTLS_SUPPORTED_CIPHER_SUITES=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      'MTLS_ALLOW_RENEGOTIATION=false',
    ]);
    // Every other line is a comment or a separator: the output can be sourced by sh as it is.
    expect(r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !/^[A-Z_]+=/.test(l))).toEqual([]);
  });

  it('the settings it prints are what mtlsOptionsFromEnv reads, and they pass MtlsModule\'s checks', async () => {
    const r = await mtls('migrate', 'dropwizard', ARTICLE_YAML);
    const vars = Object.fromEntries(settingLines(r.stdout).filter((l) => l.startsWith('MTLS_')).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    const options = mtlsOptionsFromEnv(vars);
    expect(options).toEqual({
      keyStorePath: 'path/to/keystore.jks',
      keyStorePassword: 'notsecret',
      certAlias: 'server-tls',
      enableCRLDP: true,
      trustStorePath: 'path/to/truststore.jks',
      trustStorePassword: 'notsecret',
      validateCerts: true,
      needClientAuth: true,
      validatePeers: true,
      supportedProtocols: ['TLSv1.2'],
      supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
      allowRenegotiation: false,
    });
    expect(() => validateMtlsOptions(options)).not.toThrow();
  });

  it('then the same as a commented MtlsModule.forRoot snippet, passwords read from the environment', async () => {
    const r = await mtls('migrate', 'dropwizard', ARTICLE_YAML);
    const snippet = r.stdout.slice(r.stdout.indexOf('#   MtlsModule.forRoot({'));
    expect(snippet).toContain("#     keyStorePath: 'path/to/keystore.jks',\n");
    expect(snippet).toContain('#     keyStorePassword: process.env.MTLS_KEY_STORE_PASSWORD, // a password: keep it out of code\n');
    expect(snippet).toContain("#     supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],\n");
    expect(snippet).toContain('#   // main.ts: await app.listen(8443);');
    expect(snippet).not.toContain('notsecret');
  });

  it('with --dn-regex: MTLS_DN_FORMAT=jdk, and the regex as the @RequireClientCert of the routes the filter guarded', async () => {
    const r = await mtls('migrate', 'dropwizard', ARTICLE_YAML, '--dn-regex', ARTICLE_REGEX);
    expect(r.code).toBe(0);
    expect(settingLines(r.stdout)).toContain('MTLS_DN_FORMAT=jdk');
    expect(r.stdout).toContain(`#   @RequireClientCert('${ARTICLE_REGEX}')\n`);
    expect(r.stdout).toContain("#     dnFormat: 'jdk',\n");
    // A backslash of the regex is written as Java source writes it.
    const escaped = await mtls('migrate', 'dropwizard', ARTICLE_YAML, '--dn-regex', '^CN=service1\\.example\\.com$');
    expect(escaped.stdout).toContain("#   @RequireClientCert('^CN=service1\\\\.example\\\\.com$')\n");
    expect(escaped.stdout).not.toContain('doubled backslash');
  });

  it('--dn-regex that cannot be matched exactly as Java does, or a regex pasted from Java source with doubled backslashes, is said', async () => {
    // Java's (?i) is carried over exactly; a possessive quantifier has no exact JavaScript counterpart and is refused, never approximated.
    expect((await mtls('migrate', 'dropwizard', ARTICLE_YAML, '--dn-regex', '(?i)^CN=home.*$')).code).toBe(0);
    const bad = await mtls('migrate', 'dropwizard', ARTICLE_YAML, '--dn-regex', '^CN=home.*+$');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^mtls migrate dropwizard: --dn-regex: the Java regex cannot be carried over exactly: \*\+ at character 10: .*possessive/);
    const doubled = await mtls('migrate', 'dropwizard', ARTICLE_YAML, '--dn-regex', '^CN=service1\\\\.example\\\\.com$');
    expect(doubled.code).toBe(0);
    expect(doubled.stdout).toContain('# note: --dn-regex has a doubled backslash');
  });
});

describe('mtls migrate dropwizard: what it cannot read exits 2 with one line', () => {
  const dir = new TempDir('nest-mtls-migrate-');
  afterAll(() => dir.cleanup());
  const run = async (yaml: string) => mtls('migrate', 'dropwizard', dir.write(`c${Math.random().toString(36).slice(2)}.yml`, yaml));
  const oneLine = (r: { stderr: string }) => {
    expect(r.stderr.split('\n')).toHaveLength(2);
    return r.stderr.replace(/^mtls migrate dropwizard: \S+: /, '').trim();
  };

  it.each([
    ['bad YAML', 'server: [\n', /^not valid YAML \(line 2, column 1\): Flow sequence/],
    ['a duplicate key', 'server:\n  type: default\n  type: simple\n', /^not valid YAML \(line 3, column 3\): Map keys must be unique$/],
    ['not a mapping', '- a\n- b\n', /^not a Dropwizard configuration: expected a YAML mapping at the top$/],
    ['no server section', 'logging:\n  level: INFO\n', /^no server section/],
    ['only http connectors', 'server:\n  applicationConnectors:\n    - type: http\n      port: 8080\n', /^no https connector \(server\.applicationConnectors\[0\] is http\)$/],
    ['no connectors at all', 'server:\n  rootPath: /api\n', /^no https connector \(none is configured/],
    ['an unknown server type', 'server:\n  type: fancy\n', /^server\.type: "fancy" is not a Dropwizard server type/],
  ])('%s', async (_, yaml, message) => {
    const r = await run(yaml);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r)).toMatch(message);
  });

  it('a key that cannot be carried over: named, with what to do; the others named after it, on the same line', async () => {
    const r = await run('server:\n  applicationConnectors:\n    - type: https\n      keyStorePath: k.p12\n      trustStorePath: t.pem\n      keyStoreProvider: BC\n      maxCertPathLength: 2\n      validatePeerCerts: true\n');
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(
      'server.applicationConnectors[0].keyStoreProvider: there are no JCE providers: OpenSSL in Node does the work (an ordinary store file needs none; a key held by a PKCS#11 provider cannot be used): take it out if the store is an ordinary file (also cannot be carried over: maxCertPathLength, validatePeerCerts)',
    );
  });

  it('--dn-regex with only an admin https connector: nothing to carry it to', async () => {
    const r = await mtls('migrate', 'dropwizard', dir.write('admin.yml', 'server:\n  adminConnectors:\n    - type: https\n      keyStorePath: k.p12\n      trustStorePath: t.pem\n'), '--dn-regex', '^CN=a, .*$');
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe('--dn-regex: no https application connector to carry the regex over to (admin connectors serve no application routes)');
  });

  it('a missing file exits 1 naming it', async () => {
    const r = await mtls('migrate', 'dropwizard', dir.path('nope.yml'));
    expect(r).toEqual({ code: 1, stdout: '', stderr: `mtls migrate dropwizard: ${dir.path('nope.yml')}: cannot be read (ENOENT)\n` });
  });

  it('usage: no file, two files; help', async () => {
    expect((await mtls('migrate', 'dropwizard')).stderr).toBe("mtls migrate dropwizard: missing CONFIG.yml. Run 'mtls migrate dropwizard --help' for usage.\n");
    expect((await mtls('migrate', 'dropwizard', 'a.yml', 'b.yml')).code).toBe(2);
    expect((await mtls('migrate')).stderr).toBe("mtls: missing migrate command (try 'migrate dropwizard'). Run 'mtls migrate --help' for usage.\n");
    const help = await mtls('migrate', 'dropwizard', '--help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Usage: mtls migrate dropwizard CONFIG.yml [--dn-regex REGEX]');
    expect((await mtls('--help')).stdout).toMatch(/\n {2}migrate dropwizard print the MTLS_\* settings/);
  });
});

describe('mtls migrate dropwizard: several connectors, server types, ${VAR}', () => {
  const dir = new TempDir('nest-mtls-migrate-');
  afterAll(() => dir.cleanup());

  it('two https application connectors and an https admin connector: one block each, clearly apart', async () => {
    const yaml = [
      'server:',
      '  applicationConnectors:',
      '    - type: https',
      '      port: 8443',
      '      keyStorePath: /a.p12',
      '      trustStorePath: /t.pem',
      '      needClientAuth: true',
      '    - type: http',
      '      port: 8080',
      '    - type: https',
      '      port: 9443',
      '      keyStorePath: /b.p12',
      '      trustStorePath: /t.pem',
      '      wantClientAuth: true',
      '  adminConnectors:',
      '    - type: https',
      '      port: 8444',
      '      keyStorePath: /a.p12',
      '      trustStorePath: /t.pem',
      '',
    ].join('\n');
    const r = await mtls('migrate', 'dropwizard', dir.write('three.yml', yaml));
    expect(r.code).toBe(0);
    const blocks = r.stdout.split('\n\n');
    expect(blocks).toHaveLength(4);
    expect(blocks[0]).toContain('# note: 2 https application connectors: a nest-mtls service serves one HTTPS port (one MtlsModule): run one service per block');
    expect(blocks[0]).toContain('# skipped: server.applicationConnectors[1]: type http (plain HTTP)');
    expect(blocks[1]).toMatch(/^# === server\.applicationConnectors\[0\]: https, port 8443 ===\nPORT=8443\nMTLS_KEY_STORE_PATH=\/a\.p12\n/);
    expect(settingLines(blocks[1])).toContain('MTLS_NEED_CLIENT_AUTH=true');
    expect(blocks[2]).toMatch(/^# === server\.applicationConnectors\[2\]: https, port 9443 ===\nPORT=9443\nMTLS_KEY_STORE_PATH=\/b\.p12\n/);
    expect(settingLines(blocks[2])).toContain('MTLS_NEED_CLIENT_AUTH=false');
    expect(blocks[2]).toContain('# note: wantClientAuth: true is want mode here');
    expect(blocks[3]).toMatch(/^# === server\.adminConnectors\[0\]: https admin connector, port 8444 ===\nADMIN_PORT=8444\n# note: admin connector: .*plain HTTP.*its TLS keys \(keyStorePath, trustStorePath\) have no counterpart there/);
    expect(settingLines(blocks[3])).toEqual(['ADMIN_PORT=8444']);
  });

  it('a simple server: its one connector, and a note on the context paths', async () => {
    const yaml = 'server:\n  type: simple\n  applicationContextPath: /api\n  connector:\n    type: https\n    port: 9443\n    keyStorePath: /a.p12\n    trustStorePath: /t.pem\n';
    const r = await mtls('migrate', 'dropwizard', dir.write('simple.yml', yaml));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# === server.connector: https, port 9443 ===\nPORT=9443\n');
    expect(r.stdout).toContain('the application under /api and the admin under /admin on this one connector');
    expect(r.stdout).toContain('app.setGlobalPrefix("api")');
  });

  it("${VAR} values stay for the shell to fill in, as Dropwizard's substitutor did; sh reads the output back", async () => {
    const yaml = 'server:\n  applicationConnectors:\n    - type: https\n      port: ${PORT:-8443}\n      keyStorePath: ${KEY_STORE}\n      keyStorePassword: ${KEY_STORE_PASSWORD}\n      trustStorePath: "/etc/my trust/$ca.pem"\n      needClientAuth: true\n';
    const r = await mtls('migrate', 'dropwizard', dir.write('vars.yml', yaml));
    expect(r.code).toBe(0);
    expect(settingLines(r.stdout)).toEqual(['PORT="${PORT:-8443}"', 'MTLS_KEY_STORE_PATH="${KEY_STORE}"', 'MTLS_KEY_STORE_PASSWORD="${KEY_STORE_PASSWORD}"', "MTLS_TRUST_STORE_PATH='/etc/my trust/$ca.pem'", 'MTLS_NEED_CLIENT_AUTH=true']);
    expect(r.stdout).toContain('#     keyStorePath: process.env.KEY_STORE,');
    expect(r.stdout).toContain("#   // main.ts: await app.listen(process.env.PORT ?? '8443');");
    const out = dir.write('vars.env', r.stdout);
    const { spawnSync } = await import('node:child_process');
    const shell = spawnSync('sh', ['-c', `set -a; . '${out}'; set +a; printf '%s|%s|%s|%s' "$PORT" "$MTLS_KEY_STORE_PATH" "$MTLS_KEY_STORE_PASSWORD" "$MTLS_TRUST_STORE_PATH"`], {
      env: { PATH: process.env.PATH, KEY_STORE: '/run/secrets/k.p12', KEY_STORE_PASSWORD: "pa$$ 'w\"ord" },
      encoding: 'utf8',
    });
    expect(shell.stdout).toBe(`8443|/run/secrets/k.p12|pa$$ 'w"ord|/etc/my trust/$ca.pem`);
  });

  it('shell quoting: plain values bare, anything else single-quoted (a quote in it too)', () => {
    expect(shellValue('/etc/mtls/server.p12')).toBe('/etc/mtls/server.p12');
    expect(shellValue('TLSv1.2,TLSv1.3')).toBe('TLSv1.2,TLSv1.3');
    expect(shellValue('')).toBe("''");
    expect(shellValue("it's $x `y` \\z")).toBe("'it'\\''s $x `y` \\z'");
  });
});

describe('the mapping of each connector key', () => {
  it('needClientAuth and wantClientAuth, as Jetty combines them', () => {
    expect(env(migrate({ needClientAuth: true }))).toMatchObject({ MTLS_NEED_CLIENT_AUTH: 'true' });
    const both = migrate({ needClientAuth: true, wantClientAuth: true });
    expect(env(both)).toMatchObject({ MTLS_NEED_CLIENT_AUTH: 'true' });
    expect(both.notes).toContain('wantClientAuth: true adds nothing to needClientAuth: true (in Jetty, need wins)');
    const want = migrate({ wantClientAuth: true });
    expect(env(want)).toMatchObject({ MTLS_NEED_CLIENT_AUTH: 'false' });
    expect(want.notes.join('\n')).toMatch(/^wantClientAuth: true is want mode here, MTLS_NEED_CLIENT_AUTH=false/m);
    const none = migrate({});
    expect(env(none)).toMatchObject({ MTLS_NEED_CLIENT_AUTH: 'false' });
    expect(none.notes.join('\n')).toMatch(/^needClientAuth: Dropwizard asks for no client certificate here; nest-mtls always asks/m);
  });

  it('revocation settings with validatePeers false (or unset, Dropwizard\'s default) are refused: Dropwizard never applies them', () => {
    expect(migrate({ crlPath: '/crl.pem' }).refusals).toEqual([
      "crlPath: validatePeers is not set (Dropwizard's default: false), so Dropwizard never checks it: set validatePeers: true to check revocation, or take it out",
    ]);
    expect(migrate({ validatePeers: false, enableCRLDP: true, enableOCSP: true }).refusals).toEqual([
      'enableCRLDP, enableOCSP: validatePeers is false, so Dropwizard never checks them: set validatePeers: true to check revocation, or take them out',
    ]);
    expect(migrate({ validatePeers: false, enableCRLDP: false }).refusals).toEqual([]);
    const checked = migrate({ validatePeers: true, crlPath: '/crl.pem', enableOCSP: true, ocspResponderUrl: 'http://ocsp.example/' });
    expect(checked.refusals).toEqual([]);
    expect(env(checked)).toMatchObject({ MTLS_VALIDATE_PEERS: 'true', MTLS_CRL_PATH: '/crl.pem', MTLS_OCSP: 'true', MTLS_OCSP_RESPONDER_URL: 'http://ocsp.example/' });
  });

  it('validatePeers false: the chain is still verified in the handshake, only revocation is off (said in a note)', () => {
    const m = migrate({ validatePeers: false });
    expect(env(m)).toMatchObject({ MTLS_VALIDATE_PEERS: 'false' });
    expect(m.notes).toContain("validatePeers: false: as in Dropwizard, the client's chain is still verified against the trust store in the handshake; only revocation checking is off");
  });

  it('protocols: supportedProtocols less excludedProtocols (Java regexes, matched whole); TLS 1.1 and older left out with a note', () => {
    expect(env(migrate({ supportedProtocols: ['TLSv1.2'] }))).toMatchObject({ MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2' });
    const old = migrate({ supportedProtocols: ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'], excludedProtocols: [] });
    expect(env(old)).toMatchObject({ MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2,TLSv1.3' });
    expect(old.notes.join('\n')).toMatch(/^supportedProtocols: TLSv1\.1 left out: nest-mtls speaks TLS 1\.2 and 1\.3 only/m);
    // Dropwizard's default exclusions (SSL.*, TLSv1, TLSv1\.1) already drop TLS 1.1, without a note.
    const defaults = migrate({ supportedProtocols: ['TLSv1.1', 'TLSv1.2'] });
    expect(env(defaults)).toMatchObject({ MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2' });
    expect(defaults.notes.join('\n')).not.toMatch(/TLSv1\.1 left out/);
    const no13 = migrate({ excludedProtocols: ['TLSv1\\.3'] });
    expect(env(no13)).toMatchObject({ MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.2' });
    expect(no13.notes).toContain('excludedProtocols: applied: TLSv1.3 left out');
    expect(env(migrate({ excludedProtocols: ['SSL.*'] }))).not.toHaveProperty('MTLS_SUPPORTED_PROTOCOLS');
    expect(migrate({ supportedProtocols: ['TLSv1.2'], excludedProtocols: ['TLS.*'] }).refusals).toEqual(['supportedProtocols: leaves no protocol nest-mtls speaks (TLSv1.2, TLSv1.3)']);
  });

  it("cipher suites: Jetty's default exclusions apply as in Dropwizard; the YAML's own replace them; patterns and exclusions alone are refused", () => {
    const jetty = migrate({ supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'] });
    expect(env(jetty)).toMatchObject({ MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' });
    expect(jetty.notes.join('\n')).toMatch(/^supportedCipherSuites: TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA left out, as Dropwizard did \(Jetty's default exclusions/m);
    const own = migrate({ supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'], excludedCipherSuites: ['.*_GCM_.*'] });
    expect(env(own)).toMatchObject({ MTLS_SUPPORTED_CIPHER_SUITES: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' });
    expect(migrate({ supportedCipherSuites: ['TLS_ECDHE_.*'] }).refusals).toEqual(['supportedCipherSuites: "TLS_ECDHE_.*" is a pattern: nest-mtls takes suite names: list them']);
    expect(migrate({ excludedCipherSuites: ['.*_CBC_.*'] }).refusals[0]).toMatch(/^excludedCipherSuites: nest-mtls takes the suites to allow, not patterns/);
    // Without either, Dropwizard's exclusions are not ours: said in a note.
    expect(migrate({}).notes.join('\n')).toMatch(/^supportedCipherSuites: not set: Dropwizard offered the JVM's suites less Jetty's exclusions/m);
    // A name OpenSSL does not know: the library's own startup check refuses it.
    expect(migrate({ supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_NOTHING'] }).refusals).toEqual([
      'supportedCipherSuites: unknown cipher suite "TLS_ECDHE_RSA_WITH_NOTHING" (use IANA names such as TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, or OpenSSL names)',
    ]);
  });

  it('store types: JKS and PKCS12 carried over; JCEKS and Windows stores refused with what to do', () => {
    expect(env(migrate({ keyStoreType: 'pkcs12', trustStoreType: 'JKS' }))).toMatchObject({ MTLS_KEY_STORE_TYPE: 'PKCS12', MTLS_TRUST_STORE_TYPE: 'JKS' });
    expect(migrate({ keyStoreType: 'JCEKS' }).refusals[0]).toMatch(/^keyStoreType: JCEKS is not read here: convert the store \(keytool -importkeystore .*-deststoretype PKCS12\)$/);
    expect(migrate({ trustStoreType: 'Windows-ROOT' }).refusals[0]).toMatch(/^trustStoreType: Windows-ROOT: the Windows certificate store has no counterpart here/);
  });

  it('keyManagerPassword: nothing to do when it is the store password, refused when it differs', () => {
    expect(migrate({ keyStorePassword: 'pw', keyManagerPassword: 'pw' }).notes).toContain('keyManagerPassword: the same as keyStorePassword, which opens the key entry here: nothing more to set');
    expect(migrate({ keyStorePassword: 'pw', keyManagerPassword: 'other' }).refusals[0]).toMatch(/^keyManagerPassword: differs from keyStorePassword: the key entry must open with keyStorePassword: re-export/);
  });

  it('endpointIdentificationAlgorithm: HTTPS carried over with a note on what differs; another algorithm refused', () => {
    const https = migrate({ endpointIdentificationAlgorithm: 'https' });
    expect(env(https)).toMatchObject({ MTLS_ENDPOINT_IDENTIFICATION: 'HTTPS' });
    expect(https.notes.join('\n')).toMatch(/^endpointIdentificationAlgorithm: the client certificate must name the address the client connects from .* gets 403 \(Java ends the handshake\)/m);
    expect(migrate({ endpointIdentificationAlgorithm: 'LDAPS' }).refusals).toEqual(['endpointIdentificationAlgorithm: "LDAPS" is not supported: HTTPS is the only endpoint identification algorithm here']);
  });

  it("missing key or trust store: refused (Dropwizard would trust the JVM's public CAs)", () => {
    expect(migrate({ trustStorePath: undefined }).refusals[0]).toMatch(/^trustStorePath: missing: Dropwizard then trusts the JVM's public CAs \(cacerts\)/);
    expect(migrate({ keyStorePath: undefined }).refusals[0]).toMatch(/^keyStorePath: missing/);
  });

  it('Jackson\'s leniency: "true" for true, a number for a password; anything else is named', () => {
    expect(env(migrate({ validatePeers: 'true', keyStorePassword: 123456 }))).toMatchObject({ MTLS_VALIDATE_PEERS: 'true', MTLS_KEY_STORE_PASSWORD: '123456' });
    expect(migrate({ validatePeers: 'yes please' }).refusals).toEqual(['validatePeers: expected true or false, got "yes please"']);
    expect(migrate({ supportedProtocols: 'TLSv1.2' }).refusals).toEqual(['supportedProtocols: expected a list of names']);
    expect(migrate({ port: 'eighty' }).refusals).toEqual(['port: expected a port number, got "eighty"']);
  });

  it('HTTP and Jetty tuning keys get notes; those that change who can connect are refused; unknown keys are refused', () => {
    const m = migrate({ idleTimeout: '30s', acceptorThreads: 2, selectorThreads: 4, useProxyProtocol: false });
    expect(m.refusals).toEqual([]);
    expect(m.notes.join('\n')).toMatch(/^idleTimeout: an HTTP setting, not TLS: not carried over \(Node's server\.keepAliveTimeout/m);
    expect(m.notes).toContain("acceptorThreads, selectorThreads: Jetty's tuning, not TLS: Node has no counterpart (not carried over)");
    expect(migrate({ useProxyProtocol: true }).refusals).toEqual(['useProxyProtocol: true is not supported: Node reads no PROXY protocol header before the handshake']);
    expect(migrate({ needClientAuht: true }).refusals).toEqual(["needClientAuht: not a key of Dropwizard's https connector; did you mean needClientAuth? (Dropwizard refuses unknown keys too)"]);
    expect(migrate({ renegotiationAllowed: true }).refusals).toEqual(["renegotiationAllowed: not a key of Dropwizard's https connector: it is Jetty's name; Dropwizard's is allowRenegotiation"]);
  });

  it('type h2: carried over as HTTPS over HTTP/1.1, its HTTP/2 keys named', () => {
    const m = migrate({ type: 'h2', maxConcurrentStreams: 100 });
    expect(m.refusals).toEqual([]);
    expect(m.notes).toContain('type h2: nest-mtls serves HTTP/1.1 over TLS: clients that offer HTTP/2 in ALPN fall back to HTTP/1.1');
    expect(m.notes.join('\n')).toMatch(/^maxConcurrentStreams: Jetty's HTTP\/2 and tuning/m);
  });

  /** A value of the kind each key takes, for the test below. */
  const SAMPLE: Record<string, unknown> = {
    keyStorePath: '/k.p12', keyStorePassword: 'pw', keyStoreType: 'PKCS12', keyStoreProvider: 'BC', certAlias: 'server', keyManagerPassword: 'other',
    trustStorePath: '/t.pem', trustStorePassword: 'pw', trustStoreType: 'JKS', trustStoreProvider: 'BC', needClientAuth: true, wantClientAuth: true,
    validateCerts: false, validatePeers: false, crlPath: '/crl.pem', enableCRLDP: true, enableOCSP: true, ocspResponderUrl: 'http://ocsp/', maxCertPathLength: 3,
    jceProvider: 'Conscrypt', supportedProtocols: ['TLSv1.2'], excludedProtocols: ['TLSv1\\.3'], supportedCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
    excludedCipherSuites: ['.*_CBC_.*'], allowRenegotiation: true, endpointIdentificationAlgorithm: 'HTTPS', disableSniHostCheck: true, port: 9443, bindHost: '10.1.2.3',
  };

  it.each(DROPWIZARD_HTTPS_KEYS.map((k) => k.key))('%s is carried over, noted or refused: never left out silently', (key) => {
    expect(SAMPLE).toHaveProperty(key);
    const m = migrate({ validatePeers: true, [key]: SAMPLE[key] });
    const entry = DROPWIZARD_HTTPS_KEYS.find((k) => k.key === key)!;
    const variable = entry.option ? MTLS_ENV[entry.option][0] : undefined;
    const said = [
      ...m.settings.map((s) => s.name),
      ...(m.port === String(SAMPLE.port) && key === 'port' ? ['port'] : []),
      ...(m.host === SAMPLE.bindHost && key === 'bindHost' ? ['bindHost'] : []),
      ...m.notes.map((n) => n.split(':')[0]),
      ...m.refusals.map((r) => r.split(':')[0]),
    ].join(' ');
    expect(said).toMatch(new RegExp(`\\b(${key}${variable ? `|${variable}` : ''})\\b`));
  });
});

describe('Dropwizard names where ours belong: answered with ours', () => {
  it.each([
    ['MTLS_ENABLE_OCSP', "Dropwizard's enableOCSP is MTLS_OCSP here"],
    ['MTLS_ENDPOINT_IDENTIFICATION_ALGORITHM', "Dropwizard's endpointIdentificationAlgorithm is MTLS_ENDPOINT_IDENTIFICATION=HTTPS here"],
    ['MTLS_VALIDATE_PEER_CERTS', "Jetty's validatePeerCerts (Dropwizard's validatePeers) is MTLS_VALIDATE_PEERS here"],
    ['MTLS_WANT_CLIENT_AUTH', "Dropwizard's wantClientAuth: true is MTLS_NEED_CLIENT_AUTH=false here (want mode: a certificate is requested, not demanded)"],
    ['MTLS_KEY_MANAGER_PASSWORD', "Dropwizard's keyManagerPassword has no counterpart: the key entry must open with MTLS_KEY_STORE_PASSWORD: re-export the store with one password (keytool -importkeystore ... -destkeypass <the store password>); an encrypted PEM key takes MTLS_KEY_PASSPHRASE"],
    ['MTLS_EXCLUDED_PROTOCOLS', "Dropwizard's excludedProtocols has no counterpart: list the versions you allow in MTLS_SUPPORTED_PROTOCOLS (TLS 1.1 and older are never allowed)"],
    ['MTLS_EXCLUDED_CIPHER_SUITES', "Dropwizard's excludedCipherSuites has no counterpart: list the suites you allow in MTLS_SUPPORTED_CIPHER_SUITES"],
    ['MTLS_ENABLE_OSCP', "Dropwizard's enableOCSP is MTLS_OCSP here"],
    ['MTLS_PORT', "Dropwizard's port has no counterpart: the port is the application's: app.listen(port) (the demo services read PORT)"],
  ])('the variable %s', (variable, hint) => {
    expect(configProblem(() => mtlsOptionsFromEnv({ [variable]: 'true' }))).toBe(`${variable}: not a setting of nest-mtls; ${hint}`);
  });

  it.each([
    ['enableOCSP', "Dropwizard's enableOCSP is ocsp here"],
    ['endpointIdentificationAlgorithm', "Dropwizard's endpointIdentificationAlgorithm is endpointIdentification: 'HTTPS' here"],
    ['validatePeerCerts', "Jetty's validatePeerCerts (Dropwizard's validatePeers) is validatePeers here"],
    ['wantClientAuth', "Dropwizard's wantClientAuth: true is needClientAuth: false here (want mode: a certificate is requested, not demanded)"],
    ['keyManagerPassword', "Dropwizard's keyManagerPassword has no counterpart: the key entry must open with keyStorePassword: re-export the store with one password (keytool -importkeystore ... -destkeypass <the store password>); an encrypted PEM key takes keyPassphrase"],
    ['excludedProtocols', "Dropwizard's excludedProtocols has no counterpart: list the versions you allow in supportedProtocols (TLS 1.1 and older are never allowed)"],
    ['renegotiationAllowed', "Jetty's renegotiationAllowed (Dropwizard's allowRenegotiation) is allowRenegotiation here"],
  ])('the option %s in code', (option, hint) => {
    expect(configProblem(() => validateMtlsOptions({ [option]: true }))).toBe(`${option}: is not an option of MtlsModule; ${hint}`);
  });

  it('a misspelt option in code gets the closest name, as the variables and MtlsAdminModule do; a name far from all gets none', () => {
    expect(configProblem(() => validateMtlsOptions({ trustStorePth: '/t.pem' } as never))).toBe('trustStorePth: is not an option of MtlsModule; did you mean "trustStorePath"?');
    expect(configProblem(() => validateMtlsOptions({ keystorepath: '/k.p12' } as never))).toBe('keystorepath: is not an option of MtlsModule; did you mean "keyStorePath"?');
    expect(configProblem(() => validateMtlsOptions({ frobnicate: 1 } as never))).toBe('frobnicate: is not an option of MtlsModule');
  });

  it('our own names are not mistaken for Dropwizard names: typos of ours still get the closest name', () => {
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_VALIDATE_PEER: 'false' }))).toBe('MTLS_VALIDATE_PEER: not a setting of nest-mtls; did you mean MTLS_VALIDATE_PEERS?');
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_KEYSTORE_PATH: '/k' }))).toBe('MTLS_KEYSTORE_PATH: not a setting of nest-mtls; did you mean MTLS_KEY_STORE_PATH?');
  });
});

describe("the Dropwizard table of docs/guides/coming-from-dropwizard.md and the code's agree", () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'guides', 'coming-from-dropwizard.md'), 'utf8');

  it('lists every key of the connector, in the same order, with the same default and our option first', () => {
    const start = readme.indexOf('| Dropwizard key | Dropwizard default | nest-mtls |');
    expect(start).toBeGreaterThan(0);
    const rows = readme.slice(start).split('\n').slice(2).filter((l) => l.startsWith('| '));
    const table = rows.slice(0, rows.findIndex((l, i) => i > 0 && !l.startsWith('| `')) === -1 ? rows.length : rows.findIndex((l, i) => i > 0 && !l.startsWith('| `')));
    const parsed = table.map((row) => row.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
    expect(parsed.map(([key]) => /^`(\w+)`/.exec(key)?.[1])).toEqual(DROPWIZARD_HTTPS_KEYS.map((k) => k.key));
    for (const [key, dropwizardDefault, ours] of parsed) {
      const entry = DROPWIZARD_HTTPS_KEYS.find((k) => `\`${k.key}\`` === key.split(' ')[0])!;
      expect([key, dropwizardDefault]).toEqual([key, entry.dropwizardDefault]);
      if (entry.option && entry.value === undefined) expect([key, ours]).toEqual([key, expect.stringMatching(new RegExp(`^\`${entry.option}[\`:]`))]);
      else if (entry.option) expect([key, ours]).toEqual([key, expect.stringContaining(`\`${entry.option}: ${typeof entry.value === 'string' ? `'${entry.value}'` : entry.value}\``)]);
      else expect([key, ours]).toEqual([key, expect.stringMatching(/^not an option/)]);
    }
  });
});
