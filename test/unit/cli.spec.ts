/** The `mtls` command line, run in-process through main(); results checked against the openssl CLI. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../libs/mtls/src/cli/main';

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

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

const opensslSubject = (file: string) => openssl(['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb']).trim().replace(/^subject=/, '');

let work: string;
let dir: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nest-mtls-cli-'));
  dir = path.join(work, 'pki');
  const init = await mtls('pki', 'init', dir);
  expect(init).toMatchObject({ code: 0, stderr: '' });
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

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
    const other = path.join(work, 'printed');
    const r = await mtls('pki', 'init', other, '--password', 's3cret');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`MTLS_KEY_STORE_PATH=${path.join(other, 'user-service.p12')}`);
    expect(r.stdout).toContain('MTLS_KEY_STORE_PASSWORD=s3cret');
    expect(r.stdout).toContain(`MTLS_TRUST_STORE_PATH=${path.join(other, 'truststore.pem')}`);
    expect(r.stdout).toContain(`MTLS_CRL_PATH=${path.join(other, 'crl.pem')}`);
    expect(openssl(['pkcs12', '-in', path.join(other, 'user-service.p12'), '-passin', 'pass:s3cret', '-nodes', '-info'])).toContain('BEGIN PRIVATE KEY');
  });

  it('--rsa makes RSA keys', async () => {
    const rsa = path.join(work, 'rsa');
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
    expect(r.stdout).toContain('san: DNS:user-service, DNS:localhost, IP:127.0.0.1, IP:::1');
    expect(r.stdout).toMatch(/\nnot before: \d{4}-\d\d-\d\dT[\d:.]+Z\nnot after: \d{4}-/);
    const serial = openssl(['x509', '-in', cert, '-noout', '-serial']).trim().replace(/^serial=/, '');
    expect(r.stdout).toContain(`serial: ${serial}`);
    const sha = openssl(['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).trim().replace(/^.*=/, '');
    expect(r.stdout).toContain(`sha256: ${sha}`);
    expect(r.stdout).not.toMatch(/EXPIRED|NOT YET VALID|spiffe:/);
  });

  it('reads DER, and the first certificate of a PEM chain', async () => {
    const der = path.join(work, 'user.der');
    fs.writeFileSync(der, spawnSync('openssl', ['x509', '-in', path.join(dir, 'user-service.crt'), '-outform', 'DER']).stdout);
    expect((await mtls('inspect', der)).stdout.split('\n')[0]).toBe('subject: CN=user-service,O=nest-mtls');
    expect((await mtls('inspect', path.join(dir, 'home-page-service.chain.pem'))).stdout.split('\n')[0]).toBe('subject: CN=home-page-service,O=nest-mtls');
  });

  it('shows what pki issue put in: subject, --dns, --uri, --ip, SPIFFE ID', async () => {
    const issued = await mtls(
      'pki', 'issue', '--cn', 'batch', '--subject', 'CN=batch\\, nightly+OU=jobs,O=nest-mtls',
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

  it('says so when a certificate has expired', async () => {
    const { issueIntoPki } = await import('nest-mtls/pki');
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
    [['pki', 'issue', dirPlaceholder()], /--cn NAME is required/],
    [['pki', 'issue', '--cn', 'x'], /missing DIR/],
    [['pki', 'issue', '--cn', 'x', '--client-only', '--server-only', 'd'], /exclude each other/],
    [['pki', 'issue', '--cn', 'x', '--days', 'soon', 'd'], /--days/],
    [['pki', 'issue', '--cn', 'x', '--ip', 'not-an-ip', 'd'], /not an IP address/],
    [['pki', 'issue', '--cn', '../x', 'd'], /invalid service name/],
    [['pki', 'issue', '--cn', 'x', '--subject', 'junk', 'd'], /invalid subject/],
    [['pki', 'init'], /missing DIR/],
    [['pki', 'init', 'a', 'b'], /expected one DIR/],
    [['pki', 'init', '--bogus', 'a'], /Unknown option '--bogus'/],
    [['inspect'], /missing FILE/],
  ])('usage error %j -> exit 2, one line, hint to --help', async (argv, message) => {
    const r = await mtls(...(argv as string[]));
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
    const missing = path.join(work, 'nope.pem');
    const r = await mtls('inspect', missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mtls inspect: ${missing}: no such file\n`);

    const garbage = path.join(work, 'garbage.bin');
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

    const d = await mtls('inspect', work);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`${work}: is a directory`);

    const noPki = await mtls('pki', 'issue', '--cn', 'x', path.join(work, 'no-pki'));
    expect(noPki.code).toBe(1);
    expect(noPki.stderr).toMatch(/is not a dev PKI/);
    oneLine(noPki);
  });
});

function dirPlaceholder(): string {
  return path.join(os.tmpdir(), 'nest-mtls-cli-unused');
}
