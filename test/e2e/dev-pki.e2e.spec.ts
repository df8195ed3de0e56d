import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNodeService, runService } from '../support/spawn-service';

const OWN_SERVICE = join(__dirname, '..', 'fixtures', 'own-service', 'main.js');

/**
 * The development PKI is opt-in, each case a separate process with only its
 * environment: the demo services opt in outside production (a fresh clone
 * serves mTLS with no settings); a service that does not opt in gets the usual
 * startup error for missing material; opting in in production is an error.
 */
describe('the development PKI is opt-in', () => {
  let work: string;
  let n = 0;
  const pkiDir = () => join(work, `pki-${++n}`);
  beforeAll(() => (work = mkdtempSync(join(tmpdir(), 'nest-mtls-devpki-e2e-'))));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function lastLine(stderr: string): string {
    return stderr.trim().split('\n').pop() ?? '';
  }

  it('user-service on a fresh clone (no MTLS_* settings, not production) opts in and listens', async () => {
    const dir = pkiDir();
    const run = await runService('user-service', { MTLS_DEV_PKI_DIR: dir });
    expect(run.listened).toBe(true);
    expect(run.stdout).toMatch(/using the development PKI in .*pki-\d+ \(opted in; never in production\)/);
    expect(existsSync(join(dir, 'user-service.p12'))).toBe(true);
  });

  it('a service that does not opt in gets the usual error for missing material, and no PKI is made', async () => {
    const dir = pkiDir();
    const run = await runNodeService(OWN_SERVICE, { MTLS_DEV_PKI_DIR: dir });
    expect(run.listened).toBe(false);
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe('own-service: configuration error: keyStorePath: no key material: set keyStorePath, or certPath and keyPath');
    expect(existsSync(dir)).toBe(false);
  });

  it('the same service opts in with MTLS_DEV_PKI=true', async () => {
    const run = await runNodeService(OWN_SERVICE, { MTLS_DEV_PKI: 'true', MTLS_DEV_PKI_DIR: pkiDir() });
    expect(run.listened).toBe(true);
  });

  it('MTLS_DEV_PKI=false turns the demo service\'s opt-in off: missing material stops it', async () => {
    const dir = pkiDir();
    const run = await runService('user-service', { MTLS_DEV_PKI: 'false', MTLS_DEV_PKI_DIR: dir });
    expect(run.listened).toBe(false);
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe('user-service: configuration error: keyStorePath: no key material: set keyStorePath, or certPath and keyPath');
    expect(existsSync(dir)).toBe(false);
  });

  it('opting in with NODE_ENV=production is refused, naming the variable', async () => {
    const dir = pkiDir();
    const run = await runService('user-service', { NODE_ENV: 'production', MTLS_DEV_PKI: 'true', MTLS_DEV_PKI_DIR: dir });
    expect(run.listened).toBe(false);
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toMatch(
      /^user-service: configuration error: MTLS_DEV_PKI \(devPki\): the development PKI is refused when NODE_ENV is production .*; give keyStorePath and trustStorePath$/,
    );
    expect(existsSync(dir)).toBe(false);
  });
});
