import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtlsConfigError } from 'nest-mtls';
import { mtlsOptionsWithDevPki } from 'nest-mtls/dev-pki';

/** The development PKI is opt-in: never implied by a missing setting, never in production. */
describe('mtlsOptionsWithDevPki', () => {
  let work: string;
  let dir: string;
  beforeAll(() => (work = mkdtempSync(join(tmpdir(), 'nest-mtls-devpki-'))));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  beforeEach(() => (dir = join(work, `pki-${Math.random().toString(36).slice(2)}`)));

  it('without opt-in returns the MTLS_* options as they are, and creates nothing', async () => {
    await expect(mtlsOptionsWithDevPki('user-service', { env: { MTLS_DEV_PKI_DIR: dir } })).resolves.toEqual({});
    await expect(mtlsOptionsWithDevPki('user-service', { env: { MTLS_DEV_PKI_DIR: dir, MTLS_CRL_PATH: '/c.pem' }, devPki: false })).resolves.toEqual({
      crlPath: '/c.pem',
    });
    expect(existsSync(dir)).toBe(false);
  });

  it('with devPki: true uses the development PKI when no key or trust setting is given', async () => {
    const options = await mtlsOptionsWithDevPki('user-service', { devPki: true, env: { MTLS_DEV_PKI_DIR: dir, MTLS_SECURITY_LEVEL: '3' } });
    expect(options).toEqual({
      keyStorePath: join(dir, 'user-service.p12'),
      keyStorePassword: 'changeit',
      trustStorePath: join(dir, 'truststore.pem'),
      crlPath: join(dir, 'crl.pem'),
      securityLevel: 3,
    });
    expect(existsSync(join(dir, 'user-service.p12'))).toBe(true);
  });

  it('MTLS_DEV_PKI=true opts in, and MTLS_DEV_PKI=false overrides devPki: true', async () => {
    await expect(mtlsOptionsWithDevPki('user-service', { env: { MTLS_DEV_PKI: 'true', MTLS_DEV_PKI_DIR: dir } })).resolves.toMatchObject({
      keyStorePath: join(dir, 'user-service.p12'),
    });
    const other = join(work, 'not-made');
    await expect(mtlsOptionsWithDevPki('user-service', { devPki: true, env: { MTLS_DEV_PKI: 'false', MTLS_DEV_PKI_DIR: other } })).resolves.toEqual({});
    expect(existsSync(other)).toBe(false);
  });

  it('given material wins over the development PKI', async () => {
    const env = { MTLS_DEV_PKI_DIR: dir, MTLS_TRUST_STORE_PATH: '/etc/mtls/ca.pem' };
    await expect(mtlsOptionsWithDevPki('user-service', { devPki: true, env })).resolves.toEqual({ trustStorePath: '/etc/mtls/ca.pem' });
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to opt in when NODE_ENV is production, naming how it was asked for', async () => {
    const refusal = async (args: Parameters<typeof mtlsOptionsWithDevPki>[1]) => {
      const err = await mtlsOptionsWithDevPki('user-service', args).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MtlsConfigError);
      return (err as Error).message;
    };
    const production = { NODE_ENV: 'production', MTLS_DEV_PKI_DIR: dir };
    expect(await refusal({ devPki: true, env: production })).toBe(
      'devPki: the development PKI is refused when NODE_ENV is production (its CA keys lie next to its certificates); give keyStorePath and trustStorePath',
    );
    expect(await refusal({ env: { ...production, MTLS_DEV_PKI: 'yes', MTLS_KEY_STORE_PATH: '/k.p12' } })).toMatch(
      /^MTLS_DEV_PKI \(devPki\): the development PKI is refused when NODE_ENV is production/,
    );
    expect(await refusal({ env: { MTLS_DEV_PKI: 'maybe' } })).toBe('MTLS_DEV_PKI (devPki): expected true or false, got "maybe"');
    expect(existsSync(dir)).toBe(false);
  });
});
