import { inspect } from 'node:util';
import { MtlsClientError, MtlsConfigError, MtlsError } from 'nest-mtls';

/** One error family: a base class with a stable code, and what each member carries. */
describe('MtlsError family', () => {
  it('MtlsConfigError is an MtlsError with code ERR_MTLS_CONFIG, its one-line message, setting and problem', () => {
    const err = new MtlsConfigError('crlPath', 'file not found: /x/crl.pem');
    expect(err).toBeInstanceOf(MtlsError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_MTLS_CONFIG');
    expect(err.name).toBe('MtlsConfigError');
    expect(err.message).toBe('crlPath: file not found: /x/crl.pem');
    expect([err.setting, err.problem]).toEqual(['crlPath', 'file not found: /x/crl.pem']);
    // Printed by a logger that inspects errors, it stays one line.
    expect(inspect(err)).toContain('MtlsConfigError: crlPath: file not found: /x/crl.pem');
    expect(inspect(err)).not.toContain('\n');
  });

  it('MtlsConfigError names the variable first and the option in parentheses when the value came from the environment', () => {
    const err = new MtlsConfigError('keyStorePassword', 'wrong password for /etc/mtls/server.p12', 'MTLS_KEY_STORE_PASSWORD');
    expect(err.message).toBe('MTLS_KEY_STORE_PASSWORD (keyStorePassword): wrong password for /etc/mtls/server.p12');
    expect([err.setting, err.variable, err.problem]).toEqual(['keyStorePassword', 'MTLS_KEY_STORE_PASSWORD', 'wrong password for /etc/mtls/server.p12']);
    expect(new MtlsConfigError('crlPath', 'x').variable).toBeUndefined();
    expect(inspect(err)).not.toContain('\n');
  });

  it.each([
    ['tls', 'ERR_MTLS_CLIENT_TLS'],
    ['unreachable', 'ERR_MTLS_CLIENT_UNREACHABLE'],
    ['timeout', 'ERR_MTLS_CLIENT_TIMEOUT'],
    ['status', 'ERR_MTLS_CLIENT_STATUS'],
    ['protocol', 'ERR_MTLS_CLIENT_PROTOCOL'],
  ] as const)('MtlsClientError of kind %s has the stable code %s', (kind, code) => {
    const err = new MtlsClientError({ kind, url: 'https://u/', message: 'm' });
    expect(err).toBeInstanceOf(MtlsError);
    expect(err.code).toBe(code);
    expect(err.name).toBe('MtlsClientError');
    expect(err.causeCode).toBeUndefined();
    expect(err.cause).toBeUndefined();
  });

  it('MtlsClientError keeps the low-level error as cause and its code as causeCode', () => {
    const low = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new MtlsClientError({ kind: 'unreachable', url: 'https://127.0.0.1:1/', message: 'down', cause: low });
    expect(err.cause).toBe(low);
    expect(err.causeCode).toBe('ECONNREFUSED');
    expect(err.code).toBe('ERR_MTLS_CLIENT_UNREACHABLE');
    const given = new MtlsClientError({ kind: 'tls', url: 'https://u/', message: 'm', cause: low, causeCode: 'CERT_HAS_EXPIRED' });
    expect(given.causeCode).toBe('CERT_HAS_EXPIRED');
  });

  it('MtlsClientError carries status and upstreamMessage for kind status', () => {
    const err = new MtlsClientError({ kind: 'status', url: 'https://u/users/1', message: 'https://u/users/1 answered 403', status: 403, upstreamMessage: 'no' });
    expect([err.status, err.upstreamMessage, err.url, err.message]).toEqual([403, 'no', 'https://u/users/1', 'https://u/users/1 answered 403']);
  });
});
