/** The `mtls` command line, run in-process through main(); results checked against the openssl CLI. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from 'nest-mtls/internal';
import { requireTool } from '../support/require-tool';
import { keytool, opensslOk as openssl, opensslSubject, TempDir } from '../support/test-pki';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function mtls(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

let work: TempDir;
let dir: string;

beforeAll(async () => {
  work = new TempDir('nest-mtls-cli-');
  dir = work.path('pki');
  const init = await mtls('pki', 'init', dir);
  expect(init).toMatchObject({ code: 0, stderr: '' });
});

afterAll(() => work?.cleanup());

describe('mtls pki init', () => {
  it('creates the PKI and prints the files and the next steps', async () => {
    for (const f of ['root-ca.crt', 'global-ca.crt', 'truststore.pem', 'crl.pem', 'user-service.p12', 'event-service.chain.pem']) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    const again = await mtls('pki', 'init', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^mtls pki init: .*already holds a PKI.*--force/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints paths and MTLS_* variables', async () => {
    const other = work.path('printed');
    const r = await mtls('pki', 'init', other, '--password', 's3cret');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`MTLS_KEY_STORE_PATH=${path.join(other, 'user-service.p12')}`);
    expect(r.stdout).toContain('MTLS_KEY_STORE_PASSWORD=s3cret');
    expect(r.stdout).toContain(`MTLS_TRUST_STORE_PATH=${path.join(other, 'truststore.pem')}`);
    expect(r.stdout).toContain(`MTLS_CRL_PATH=${path.join(other, 'crl.pem')}`);
    expect(openssl(['pkcs12', '-in', path.join(other, 'user-service.p12'), '-passin', 'pass:s3cret', '-nodes', '-info'])).toContain('BEGIN PRIVATE KEY');
  });

  it('--rsa makes RSA keys', async () => {
    const rsa = work.path('rsa');
    expect((await mtls('pki', 'init', rsa, '--rsa')).code).toBe(0);
    const text = openssl(['x509', '-in', path.join(rsa, 'user-service.crt'), '-noout', '-text']);
    expect(text).toContain('rsaEncryption');
    expect(text).toContain('sha256WithRSAEncryption');
    expect(openssl(['verify', '-CAfile', path.join(rsa, 'truststore.pem'), '-untrusted', path.join(rsa, 'global-ca.crt'), path.join(rsa, 'user-service.crt')])).toContain(': OK');
    // a leaf issued later into an RSA PKI is RSA too
    expect((await mtls('pki', 'issue', '--cn', 'later', rsa)).code).toBe(0);
    expect(openssl(['x509', '-in', path.join(rsa, 'later.crt'), '-noout', '-text'])).toContain('rsaEncryption');
  });
});

describe('mtls inspect', () => {
  it('prints the subject first, equal to openssl, then issuer, SANs, validity, serial, fingerprint', async () => {
    const cert = path.join(dir, 'user-service.crt');
    const r = await mtls('inspect', cert);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('subject: CN=user-service,O=nest-mtls');
    expect(lines[0]).toBe(`subject: ${opensslSubject(cert)}`);
    expect(lines[1]).toBe('issuer: CN=nest-mtls Global CA,O=nest-mtls');
    expect(r.stdout).toContain('san: DNS:user-service, DNS:localhost, URI:spiffe://example.org/user-service, IP:127.0.0.1, IP:::1');
    expect(r.stdout).toContain('\nspiffe: spiffe://example.org/user-service\n');
    expect(r.stdout).toMatch(/\nnot before: \d{4}-\d\d-\d\dT[\d:.]+Z\nnot after: \d{4}-/);
    const serial = openssl(['x509', '-in', cert, '-noout', '-serial']).trim().replace(/^serial=/, '');
    expect(r.stdout).toContain(`serial: ${serial}`);
    const sha = openssl(['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).trim().replace(/^.*=/, '');
    expect(r.stdout).toContain(`sha256: ${sha}`);
    expect(r.stdout).not.toMatch(/EXPIRED|NOT YET VALID/);
  });

  it('reads DER, and the first certificate of a PEM chain', async () => {
    const der = work.path('user.der');
    openssl(['x509', '-in', path.join(dir, 'user-service.crt'), '-outform', 'DER', '-out', der]);
    expect((await mtls('inspect', der)).stdout.split('\n')[0]).toBe('subject: CN=user-service,O=nest-mtls');
    expect((await mtls('inspect', path.join(dir, 'home-page-service.chain.pem'))).stdout.split('\n')[0]).toBe('subject: CN=home-page-service,O=nest-mtls');
  });

  it('shows what pki issue put in: subject, --dns, --uri, --ip, SPIFFE ID', async () => {
    const issued = await mtls(
      'pki', 'issue', '--name', 'batch', '--subject', 'CN=batch\\, nightly+OU=jobs,O=nest-mtls',
      '--dns', 'batch.internal', '--dns', 'batch', '--uri', 'spiffe://nest-mtls.test/batch', '--ip', '10.0.0.7', '--client-only', '--days', '2', dir,
    );
    expect(issued).toMatchObject({ code: 0, stderr: '' });
    const cert = path.join(dir, 'batch.crt');
    const r = await mtls('inspect', cert);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('subject: CN=batch\\, nightly+OU=jobs,O=nest-mtls');
    expect(lines[0]).toBe(`subject: ${opensslSubject(cert)}`);
    expect(r.stdout).toContain('san: DNS:batch.internal, DNS:batch, URI:spiffe://nest-mtls.test/batch, IP:10.0.0.7');
    expect(r.stdout).toContain('spiffe: spiffe://nest-mtls.test/batch');
    const ext = openssl(['x509', '-in', cert, '-noout', '-ext', 'extendedKeyUsage', '-enddate']);
    expect(ext).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    const days = (new Date(ext.match(/notAfter=(.*)/)![1]).getTime() - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(1.9);
    expect(days).toBeLessThan(2.1);
    expect(openssl(['verify', '-CAfile', path.join(dir, 'truststore.pem'), '-untrusted', path.join(dir, 'global-ca.crt'), cert])).toContain(': OK');
  });

  it('--dn-format jdk prints subject and issuer as Java\'s getSubjectDN().getName() does (keytool\'s Owner and Issuer), the rest unchanged', async () => {
    const cert = path.join(dir, 'batch.crt'); // CN=batch\, nightly+OU=jobs,O=nest-mtls, issued above
    const rfc = (await mtls('inspect', cert)).stdout.split('\n');
    const jdk = await mtls('inspect', cert, '--dn-format', 'jdk');
    expect(jdk).toMatchObject({ code: 0, stderr: '' });
    const lines = jdk.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual(['subject: OU=jobs + CN="batch, nightly", O=nest-mtls', 'issuer: CN=nest-mtls Global CA, O=nest-mtls']);
    expect(lines.slice(2)).toEqual(rfc.slice(2));
    expect((await mtls('inspect', cert, '--dn-format', 'rfc4514')).stdout).toBe(rfc.join('\n'));
    if (requireTool('keytool', 'the keytool check of inspect --dn-format jdk')) {
      const printed = keytool(['-printcert', '-file', cert]);
      expect(printed).toContain(`Owner: ${lines[0].slice('subject: '.length)}\n`);
      expect(printed).toContain(`Issuer: ${lines[1].slice('issuer: '.length)}\n`);
    }
    const bad = await mtls('inspect', cert, '--dn-format', 'java');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe(`mtls inspect: --dn-format must be rfc4514 or jdk, got "java". Run 'mtls inspect --help' for usage.\n`);
  });

  it('says so when a certificate has expired', async () => {
    const { issueIntoPki } = await import('nest-mtls/dev-pki');
    const day = 86400000;
    const files = await issueIntoPki(dir, { name: 'old', subject: 'CN=old', notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) });
    const r = await mtls('inspect', files.cert);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nEXPIRED: not valid since /);
  });
});

describe('errors', () => {
  const oneLine = (r: Run) => expect(r.stderr.trim().split('\n')).toHaveLength(1);

  it.each([
    [['pki', 'issue', dirPlaceholder()], /--cn NAME or --subject DN is required/],
    [['pki', 'issue', '--cn', 'x'], /missing DIR/],
    [['pki', 'issue', '--cn', 'x', '--client-only', '--server-only', 'd'], /exclude each other/],
    [['pki', 'issue', '--cn', 'x', '--days', 'soon', 'd'], /--days/],
    [['pki', 'issue', '--cn', 'x', '--ip', 'not-an-ip', 'd'], /not an IP address/],
    [['pki', 'issue', '--cn', '../x', 'd'], /invalid service name/],
    [['pki', 'issue', '--subject', 'junk', 'd'], /invalid subject/],
    [['pki', 'issue', '--cn', 'x', '--days', '-5', 'd'], /^mtls pki issue: --days must be a whole number from 1 to 36500, got "-5"\./],
    [['pki', 'issue', '--cn', 'x', '--days', 'abc', 'd'], /--days must be a whole number from 1 to 36500, got "abc"/],
    [['pki', 'issue', '--cn', 'x', '--days', '1.5', 'd'], /got "1\.5"/],
    [['pki', 'issue', '--cn', 'x', '--days', '0x10', 'd'], /got "0x10"/],
    [['pki', 'issue', '--cn', 'x', '--days', '36501', 'd'], /got "36501"/],
    [['pki', 'issue', '--cn', 'x', '--subject', 'CN=x', 'd'], /--cn and --subject exclude each other/],
    [['pki', 'issue', '--subject', 'CN=a\\, b,O=x', 'd'], /the subject's CN "a, b" cannot name files: give --name NAME/],
    [['pki', 'issue', '--subject', 'O=x', 'd'], /no CN to name the files: give --name NAME/],
    [['pki', 'issue', '--cn', 'x', '--password', '-secret', 'd'], /--password: a value that starts with "-" must be written --password=VALUE/],
    [['pki', 'init', '--service', '../evil', 'a'], /invalid service name "\.\.\/evil"/],
    [['pki', 'init', '--service', 'api', '--service', 'api', 'a'], /--service "api" is given twice/],
    [['pki', 'init'], /missing DIR/],
    [['pki', 'init', 'a', 'b'], /expected one DIR/],
    [['pki', 'init', '--bogus', 'a'], /Unknown option '--bogus'/],
    [['inspect'], /missing FILE/],
  ])('usage error %j -> exit 2, one line, hint to --help', async (argv, message) => {
    const r = await mtls(...(argv));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/--help/);
    oneLine(r);
  });

  it('unknown commands -> exit 2', async () => {
    for (const argv of [['frobnicate'], ['pki'], ['pki', 'revoke']]) {
      const r = await mtls(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--help/);
      oneLine(r);
    }
  });

  it('no arguments: help on stderr, exit 2; --help and help: exit 0', async () => {
    const none = await mtls();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: mtls COMMAND');
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const r = await mtls(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('pki init');
      expect(r.stdout).toContain('pki issue');
      expect(r.stdout).toContain('inspect');
    }
    expect((await mtls('help', 'pki', 'issue')).stdout).toContain('--client-only');
    expect((await mtls('pki', 'init', '--help')).stdout).toContain('--rsa');
    expect((await mtls('inspect', '--help')).code).toBe(0);
  });

  it('missing, unreadable or non-certificate files -> exit 1, one line naming the file', async () => {
    const missing = work.path('nope.pem');
    const r = await mtls('inspect', missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mtls inspect: ${missing}: no such file\n`);

    const garbage = work.path('garbage.bin');
    fs.writeFileSync(garbage, 'hello, not a certificate');
    const g = await mtls('inspect', garbage);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain(garbage);
    expect(g.stderr).toContain('not a certificate');
    oneLine(g);

    const keyOnly = path.join(dir, 'user-service.key');
    const k = await mtls('inspect', keyOnly);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain(`${keyOnly}: no certificate in it`);

    const d = await mtls('inspect', work.dir);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`${work.dir}: is a directory`);

    const noPki = await mtls('pki', 'issue', '--cn', 'x', work.path('no-pki'));
    expect(noPki.code).toBe(1);
    expect(noPki.stderr).toMatch(/is not a dev PKI/);
    oneLine(noPki);
  });
});

describe('mtls explain', () => {
  const cert = (name: string) => path.join(dir, `${name}.crt`);

  it('a certificate that passes a SPIFFE rule: exit 0, which part decided', async () => {
    const r = await mtls('explain', cert('home-page-service'), '--policy', '{"spiffeId":["spiffe://example.org/home-page-service"]}');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      [
        'subject: CN=home-page-service,O=nest-mtls',
        'spiffe:  spiffe://example.org/home-page-service',
        'policy:  SPIFFE ID is spiffe://example.org/home-page-service',
        'result:  admitted',
        'because: SPIFFE ID spiffe://example.org/home-page-service is spiffe://example.org/home-page-service',
        '',
      ].join('\n'),
    );
  });

  it('a certificate that does not: exit 3, the failing part named, and every part of the rule weighed', async () => {
    const r = await mtls('explain', cert('event-service'), '--policy', '{"dns":"localhost","spiffeId":"spiffe://example.org/home-page-service"}');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('result:  refused\nbecause: SPIFFE ID spiffe://example.org/event-service does not satisfy: SPIFFE ID is spiffe://example.org/home-page-service\n');
    // The decision: the rule that refused, what it wanted, what the certificate has, and the words the guard's refusal line carries (without the policy).
    expect(r.stdout).toContain(
      [
        'rule:    spiffeId',
        'wanted:  is spiffe://example.org/home-page-service',
        'found:   spiffe://example.org/event-service',
        'logged:  policy refused (rule spiffeId): unexpected SPIFFE ID spiffe://example.org/event-service (subject CN=event-service,O=nest-mtls)',
        'parts:',
      ].join('\n'),
    );
    expect(r.stdout).toContain('parts:\n  admits   DNS SAN localhost is localhost\n  refuses  SPIFFE ID spiffe://example.org/event-service');
  });

  it('a DN regex, several policies (any of them), and a key store', async () => {
    const r = await mtls('explain', path.join(dir, 'home-page-service.p12'), '--password', 'changeit', '--policy', '^CN=event-service,', '--policy', '^CN=home-page-service(,|$)');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('policy:  any of: (subject DN matches /^CN=event-service,/) or (subject DN matches /^CN=home-page-service(,|$)/)');
    expect(r.stdout).toContain('because: subject DN CN=home-page-service,O=nest-mtls matches /^CN=home-page-service(,|$)/');
  });

  it('--dn-format jdk: the article\'s regexes match the whole DN as Java prints it', async () => {
    const allow = await mtls('explain', cert('home-page-service'), '--dn-format', 'jdk', '--policy', '^CN=home-page-service, O=nest-mtls$');
    expect(allow).toMatchObject({ code: 0, stderr: '' });
    expect(allow.stdout).toContain('subject: CN=home-page-service, O=nest-mtls\n');
    expect(allow.stdout).toContain('policy:  subject DN matches the Java regex "^CN=home-page-service, O=nest-mtls$" (the whole DN)\n');
    expect(allow.stdout).toContain('because: subject DN CN=home-page-service, O=nest-mtls matches the Java regex "^CN=home-page-service, O=nest-mtls$" (the whole DN)\n');
    // Matcher.matches(): a regex for the start of the DN does not match the whole of it; RegExp.test (rfc4514) searches.
    expect((await mtls('explain', cert('home-page-service'), '--dn-format', 'jdk', '--policy', 'CN=home-page-service')).code).toBe(3);
    expect((await mtls('explain', cert('home-page-service'), '--policy', 'CN=home-page-service')).code).toBe(0);
    // The article's deny-style regex: refuses a contractor under jdk; under rfc4514 (no ", " in the DN) it would admit them.
    expect((await mtls('pki', 'issue', '--name', 'contractor', '--subject', 'CN=bob,OU=Contractors,O=Example', dir)).code).toBe(0);
    const deny = '^(?!.*, OU=Contractors(,|$)).*$';
    expect((await mtls('explain', cert('contractor'), '--dn-format', 'jdk', '--policy', deny)).code).toBe(3);
    expect((await mtls('explain', cert('home-page-service'), '--dn-format', 'jdk', '--policy', deny)).code).toBe(0);
    expect((await mtls('explain', cert('contractor'), '--policy', deny)).code).toBe(0);
  });

  it('--dn-format jdk refuses Java syntax JavaScript cannot match exactly, naming it', async () => {
    const r = await mtls('explain', cert('home-page-service'), '--dn-format', 'jdk', '--policy', '^CN=home-page-service, .*+');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(
      `mtls explain: --policy: the Java regex "^CN=home-page-service, .*+" cannot be used (dnFormat jdk): *+ at character 25: a possessive quantifier, which JavaScript does not have. Run 'mtls explain --help' for usage.\n`,
    );
  });

  it('a malformed policy or a missing one is a usage error naming the value', async () => {
    const bad = await mtls('explain', cert('user-service'), '--policy', '{"spiffeId":"spiffe://example.org/a/../b"}');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe(`mtls explain: --policy: spiffeId "spiffe://example.org/a/../b" is not a SPIFFE ID: the path has a ".." segment. Run 'mtls explain --help' for usage.\n`);
    expect((await mtls('explain', cert('user-service'), '--policy', '{"spiffeId":')).stderr).toMatch(/^mtls explain: --policy: not valid JSON/);
    expect((await mtls('explain', cert('user-service'))).stderr).toMatch(/^mtls explain: --policy is required/);
    expect((await mtls('explain', path.join(dir, 'nope.crt'), '--policy', 'x')).code).toBe(1);
  });
});

describe('mtls --version and help', () => {
  it('--version and -v print the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'libs', 'mtls', 'package.json'), 'utf8'));
    for (const flag of ['--version', '-v']) expect(await mtls(flag)).toEqual({ code: 0, stdout: `nest-mtls ${version}\n`, stderr: '' });
  });

  it('pki --help and help pki list the pki commands; pki alone is a usage error', async () => {
    for (const argv of [['pki', '--help'], ['pki', '-h'], ['help', 'pki']]) {
      const r = await mtls(...argv);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^Usage: mtls pki COMMAND/);
      expect(r.stdout).toMatch(/\n {2}pki init {4}create a dev PKI/);
      expect(r.stdout).toMatch(/\n {2}pki issue {3}issue one more/);
      expect(r.stdout).toMatch(/\n {2}pki revoke {2}revoke a certificate/);
      expect(r.stdout).toMatch(/\n {2}pki crl {5}publish fresh CRLs/);
      expect(r.stdout).not.toContain('inspect');
    }
    const bare = await mtls('pki');
    expect(bare).toMatchObject({ code: 2, stdout: '' });
    expect(bare.stderr).toBe("mtls: missing pki command (try 'pki init' or 'pki issue' or 'pki revoke' or 'pki crl'). Run 'mtls pki --help' for usage.\n");
    expect((await mtls('help', 'frobnicate')).code).toBe(2);
  });

  it('every command has its own --help', async () => {
    for (const [cmd, option] of [['pki init', '--crl-url URL'], ['pki issue', '--subject DN'], ['pki revoke', '--cert FILE'], ['pki crl', '--days N'], ['inspect', '--alias A'], ['explain', '--policy POLICY']]) {
      const r = await mtls(...cmd.split(' '), '--help');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain(`Usage: mtls ${cmd}`);
      expect(r.stdout).toContain(option);
    }
  });
});

describe('mtls pki init --service', () => {
  it('issues certificates for the named services only, which verify against the trust store', async () => {
    const own = work.path('own');
    const r = await mtls('pki', 'init', own, '--service', 'orders', '--service', 'billing.v2');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/\n {2}orders +orders\.crt {2}orders\.key {2}orders\.chain\.pem {2}orders\.p12 \(alias orders\)\n/);
    expect(r.stdout).toContain(`MTLS_KEY_STORE_PATH=${path.join(own, 'orders.p12')}`);
    for (const name of ['orders', 'billing.v2']) {
      const cert = path.join(own, `${name}.crt`);
      expect(opensslSubject(cert)).toBe(`CN=${name},O=nest-mtls`);
      expect(openssl(['verify', '-CAfile', path.join(own, 'truststore.pem'), '-untrusted', path.join(own, 'global-ca.crt'), cert])).toContain(': OK');
    }
    expect(fs.existsSync(path.join(own, 'user-service.crt'))).toBe(false);
  });
});

describe('mtls inspect: key stores', () => {
  const PW = 'store-pass';
  let stores: string;
  const p = (f: string) => path.join(stores, f);

  beforeAll(() => {
    stores = work.path('stores');
    fs.mkdirSync(stores);
    // PKCS#12 written by openssl: a key entry "api-key" with its certificate and the global CA.
    openssl(['pkcs12', '-export', '-inkey', path.join(dir, 'user-service.key'), '-in', path.join(dir, 'user-service.crt'),
      '-certfile', path.join(dir, 'global-ca.crt'), '-name', 'api-key', '-passout', `pass:${PW}`, '-out', p('openssl.p12')]);
  });

  it('PKCS#12: needs --password; shows the key entry certificate first and says how many there are', async () => {
    const none = await mtls('inspect', p('openssl.p12'));
    expect(none).toEqual({ code: 1, stdout: '', stderr: `mtls inspect: ${p('openssl.p12')} is password-protected; set --password\n` });
    const wrong = await mtls('inspect', p('openssl.p12'), '--password', 'nope');
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: `mtls inspect: wrong password for ${p('openssl.p12')}\n` });

    const r = await mtls('inspect', p('openssl.p12'), '--password', PW);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`subject: ${opensslSubject(path.join(dir, 'user-service.crt'))}`);
    expect(lines).toContain('key entry: api-key');
    expect(lines.at(-1)).toBe(`(certificate 1 of 2 in ${p('openssl.p12')}; --all shows each)`);
  });

  it('PKCS#12 --all: one block per certificate, each as openssl reads it', async () => {
    const r = await mtls('inspect', p('openssl.p12'), '--password', PW, '--all');
    expect(r.code).toBe(0);
    const blocks = r.stdout.trim().split('\n\n');
    expect(blocks).toHaveLength(2);
    const pem = openssl(['pkcs12', '-in', p('openssl.p12'), '-passin', `pass:${PW}`, '-nokeys']);
    const fromOpenssl = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m, i) => {
      const f = p(`from-openssl-${i}.pem`);
      fs.writeFileSync(f, m[0]);
      return opensslSubject(f);
    });
    expect(blocks.map((b) => b.split('\n')[1].replace(/^subject: /, '')).sort()).toEqual(fromOpenssl.sort());
    expect(blocks[0]).toMatch(/^certificate 1 of 2\nsubject: CN=user-service,O=nest-mtls\n[\s\S]*\nkey entry: api-key$/);
    expect(blocks[1]).toMatch(/^certificate 2 of 2\nsubject: CN=nest-mtls Global CA,O=nest-mtls\n/);
    expect(blocks[1]).not.toContain('key entry');
  });

  it('PKCS#12 --alias picks a key entry, and names the ones there are when it is not found', async () => {
    const r = await mtls('inspect', p('openssl.p12'), '--password', PW, '--alias', 'api-key');
    expect(r.stdout).toMatch(/^subject: CN=user-service,O=nest-mtls\n/);
    expect(r.stdout).not.toContain('--all shows each');
    const missing = await mtls('inspect', p('openssl.p12'), '--password', PW, '--alias', 'other');
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `mtls inspect: ${p('openssl.p12')}: no key entry "other" (key entries: api-key)\n` });
    const pem = await mtls('inspect', path.join(dir, 'user-service.chain.pem'), '--alias', 'x');
    expect(pem.code).toBe(2);
    expect(pem.stderr).toMatch(/--alias selects a key entry of a PKCS#12 or JKS store, not of a PEM file/);
  });

  it('a PEM chain: says how many, --all shows each', async () => {
    const chain = path.join(dir, 'home-page-service.chain.pem');
    expect((await mtls('inspect', chain)).stdout.trim().split('\n').at(-1)).toBe(`(certificate 1 of 2 in ${chain}; --all shows each)`);
    const all = await mtls('inspect', chain, '--all');
    expect(all.stdout).toMatch(/^certificate 1 of 2\nsubject: CN=home-page-service,O=nest-mtls\n[\s\S]+\n\ncertificate 2 of 2\nsubject: CN=nest-mtls Global CA,O=nest-mtls\n/);
  });

  const describeKeytool = requireTool('keytool', 'the JKS inspect tests') ? describe : describe.skip;
  describeKeytool('JKS written by keytool', () => {
    beforeAll(() => {
      // A key entry "api" whose stored chain is leaf + global CA, and a trust store with two trusted certificate entries.
      openssl(['pkcs12', '-export', '-inkey', path.join(dir, 'user-service.key'), '-in', path.join(dir, 'user-service.chain.pem'),
        '-name', 'api', '-passout', `pass:${PW}`, '-out', p('chain.p12')]);
      keytool(['-importkeystore', '-noprompt', '-srckeystore', p('chain.p12'), '-srcstoretype', 'PKCS12', '-srcstorepass', PW,
        '-destkeystore', p('keys.jks'), '-deststoretype', 'JKS', '-deststorepass', PW]);
      for (const [alias, file] of [['root', 'root-ca.crt'], ['global', 'global-ca.crt']]) {
        keytool(['-importcert', '-noprompt', '-alias', alias, '-file', path.join(dir, file), '-keystore', p('trust.jks'), '-storetype', 'JKS', '-storepass', PW]);
      }
    });

    it('a key store: the key entry, its stored chain with --all, --alias, and a wrong password', async () => {
      const r = await mtls('inspect', p('keys.jks'), '--password', PW, '--all');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const blocks = r.stdout.trim().split('\n\n');
      expect(blocks).toHaveLength(2);
      expect(blocks[0]).toMatch(/^certificate 1 of 2\nsubject: CN=user-service,O=nest-mtls\n[\s\S]*\nkey entry: api$/);
      expect(blocks[1]).toMatch(/^certificate 2 of 2\nsubject: CN=nest-mtls Global CA,O=nest-mtls\n[\s\S]*\nchain of key entry: api$/);
      const sha = openssl(['x509', '-in', path.join(dir, 'user-service.crt'), '-noout', '-fingerprint', '-sha256']).trim().replace(/^.*=/, '');
      expect(blocks[0]).toContain(`sha256: ${sha}`);

      const alias = await mtls('inspect', p('keys.jks'), '--password', PW, '--alias', 'api');
      expect(alias.stdout).toMatch(/^subject: CN=user-service,O=nest-mtls\n[\s\S]*\nkey entry: api\n\(certificate 1 of 2 in /);
      const noPassword = await mtls('inspect', p('keys.jks'), '--alias', 'api');
      expect(noPassword.code).toBe(2);
      expect(noPassword.stderr).toMatch(/--alias needs --password for a JKS store/);
      const wrong = await mtls('inspect', p('keys.jks'), '--password', 'nope');
      expect(wrong).toEqual({ code: 1, stdout: '', stderr: `mtls inspect: wrong password for ${p('keys.jks')}\n` });
    });

    it('a trust store: readable without the password, as Java does; says how many', async () => {
      const r = await mtls('inspect', p('trust.jks'));
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^subject: CN=nest-mtls (Root|Global) CA,O=nest-mtls\n/);
      expect(r.stdout.trim().split('\n').at(-1)).toBe(`(certificate 1 of 2 in ${p('trust.jks')}; --all shows each)`);
      const all = await mtls('inspect', p('trust.jks'), '--all');
      const subjects = all.stdout.split('\n').filter((l) => l.startsWith('subject: ')).sort();
      expect(subjects).toEqual(['subject: CN=nest-mtls Global CA,O=nest-mtls', 'subject: CN=nest-mtls Root CA,O=nest-mtls']);
    });
  });
});

function dirPlaceholder(): string {
  return path.join(os.tmpdir(), 'nest-mtls-cli-unused');
}

describe('revocation in the dev PKI: pki init --crl-url --ocsp-url, pki revoke, pki crl, inspect', () => {
  let rdir: string;
  const crlUrl = 'http://127.0.0.1:8081/global-ca.crl';
  const ocspUrl = 'http://127.0.0.1:8082/';

  beforeAll(async () => {
    rdir = work.path('revocation');
    const r = await mtls('pki', 'init', rdir, '--crl-url', crlUrl, '--ocsp-url', ocspUrl);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('export MTLS_ENABLE_CRLDP=true');
    expect(r.stdout).toContain('export MTLS_REVOCATION_ALLOWED_HOSTS=127.0.0.1:8081,127.0.0.1:8082');
  });

  it('puts the CRL distribution point and the OCSP responder into issued certificates; inspect shows them as openssl does', async () => {
    const cert = path.join(rdir, 'user-service.crt');
    const lines = (await mtls('inspect', cert)).stdout.split('\n');
    expect(lines).toContain(`crl distribution points: ${crlUrl}`);
    expect(lines).toContain(`ocsp: ${ocspUrl}`);
    const text = openssl(['x509', '-in', cert, '-noout', '-text']);
    expect(text).toMatch(new RegExp(`X509v3 CRL Distribution Points:[\\s\\S]*URI:${crlUrl.replace(/\./g, '\\.')}`));
    expect(text).toContain(`OCSP - URI:${ocspUrl}`);
    expect((await mtls('pki', 'issue', '--cn', 'later', rdir)).code).toBe(0);
    expect((await mtls('inspect', path.join(rdir, 'later.crt'))).stdout).toContain(`crl distribution points: ${crlUrl}`);
    // Without the options: no such lines.
    expect((await mtls('inspect', path.join(dir, 'user-service.crt'))).stdout).not.toMatch(/crl distribution points|ocsp:/);
  });

  it('pki revoke lists the certificate in both CRLs and in index.txt; pki crl publishes them again', async () => {
    const cert = path.join(rdir, 'event-service.crt');
    const serial = openssl(['x509', '-in', cert, '-noout', '-serial']).trim().replace(/^serial=/, '');
    const r = await mtls('pki', 'revoke', rdir, '--cert', cert, '--reason', 'keyCompromise');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Revoked CN=event-service,O=nest-mtls \\(serial ${serial}\\) at .* \\(keyCompromise\\)\\.`));
    const globalCrl = openssl(['crl', '-inform', 'DER', '-in', path.join(rdir, 'global-ca.crl'), '-noout', '-text']);
    expect(globalCrl).toContain(`Serial Number: ${serial}`);
    expect(globalCrl).toContain('Key Compromise');
    const pems = fs.readFileSync(path.join(rdir, 'crl.pem'), 'utf8').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\n/g)!;
    expect(pems).toHaveLength(2);
    expect(openssl(['crl', '-noout', '-text'], { input: pems[1] })).toContain(`Serial Number: ${serial}`);
    const index = fs.readFileSync(path.join(rdir, 'index.txt'), 'utf8');
    expect(index).toMatch(new RegExp(`^R\\t\\d{12}Z\\t\\d{12}Z,keyCompromise\\t${serial}\\tunknown\\t/O=nest-mtls/CN=event-service$`, 'm'));
    expect(index).toMatch(/^V\t\d{12}Z\t\t[0-9A-F]+\tunknown\t\/O=nest-mtls\/CN=user-service$/m);
    const crl = await mtls('pki', 'crl', rdir, '--days', '2');
    expect(crl.stdout).toMatch(/^Published CRLs listing 1 revoked certificate, next update /);
    const next = new Date(openssl(['crl', '-inform', 'DER', '-in', path.join(rdir, 'global-ca.crl'), '-noout', '-nextupdate']).replace(/^nextUpdate=/, '').trim());
    expect(Math.abs(next.getTime() - Date.now() - 2 * 86_400_000)).toBeLessThan(60_000);
    expect(openssl(['crl', '-inform', 'DER', '-in', path.join(rdir, 'global-ca.crl'), '-noout', '-text'])).toContain(`Serial Number: ${serial}`);
  });

  it('refuses a certificate of another PKI, and wrong arguments', async () => {
    const stranger = await mtls('pki', 'revoke', rdir, '--cert', path.join(dir, 'user-service.crt'));
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/^mtls pki revoke: CN=user-service,O=nest-mtls \(serial [0-9A-F]+\) was not issued by the global CA of .*\n$/);
    expect((await mtls('pki', 'revoke', rdir)).stderr).toMatch(/^mtls pki revoke: --cert FILE is required\./);
    expect((await mtls('pki', 'revoke', rdir, '--cert', path.join(rdir, 'user-service.crt'), '--reason', 'bored')).stderr).toMatch(/^mtls pki revoke: --reason must be one of keyCompromise, /);
    expect((await mtls('pki', 'init', work.path('bad-url'), '--crl-url', 'ldap://x/crl')).stderr).toMatch(/^mtls pki init: --crl-url must be an http:\/\/ URL, got "ldap:\/\/x\/crl"\./);
    expect((await mtls('pki', 'crl', rdir, '--days', '0')).code).toBe(2);
  });
});
