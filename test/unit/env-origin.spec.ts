import { MtlsConfigError, mtlsOptionsFromEnv } from 'nest-mtls';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { withEnvVariable } from 'nest-mtls/internal';

/**
 * Errors about an option whose value came from its MTLS_* variable name both.
 * At startup, as a user meets it: test/e2e/fail-fast.e2e.spec.ts.
 */
describe('withEnvVariable', () => {
  const wrongPassword = () => new MtlsConfigError('keyStorePassword', 'wrong password for /etc/mtls/server.p12');

  it('names the variable and the option when the value in use is the variable\'s', () => {
    const env = { MTLS_KEY_STORE_PASSWORD: 'secret' };
    const err = withEnvVariable(wrongPassword(), mtlsOptionsFromEnv(env), env) as MtlsConfigError;
    expect(err).toBeInstanceOf(MtlsConfigError);
    expect(err.message).toBe('MTLS_KEY_STORE_PASSWORD (keyStorePassword): wrong password for /etc/mtls/server.p12');
    expect([err.setting, err.variable, err.problem, err.code]).toEqual([
      'keyStorePassword',
      'MTLS_KEY_STORE_PASSWORD',
      'wrong password for /etc/mtls/server.p12',
      'ERR_MTLS_CONFIG',
    ]);
    expect(err.message).not.toContain('secret');
  });

  it('follows the options through a spread and compares values as the variable is parsed', () => {
    const env = { MTLS_SUPPORTED_PROTOCOLS: 'TLSv1.1, TLSv1.2', MTLS_VALIDATE_CERTS: 'yes', MTLS_CRL_PATH: ' /etc/mtls/crl.pem ' };
    const options = { ...mtlsOptionsFromEnv(env), needClientAuth: false };
    const named = (setting: string) => (withEnvVariable(new MtlsConfigError(setting, 'x'), options, env) as Error).message;
    expect(named('supportedProtocols')).toBe('MTLS_SUPPORTED_PROTOCOLS (supportedProtocols): x');
    expect(named('validateCerts')).toBe('MTLS_VALIDATE_CERTS (validateCerts): x');
    expect(named('crlPath')).toBe('MTLS_CRL_PATH (crlPath): x');
  });

  it('does not blame a variable for a value set in code over it, or for a setting it did not give', () => {
    const env = { MTLS_CRL_PATH: '/from/env/crl.pem' };
    const overridden = { ...mtlsOptionsFromEnv(env), crlPath: '/from/code/crl.pem' };
    expect((withEnvVariable(new MtlsConfigError('crlPath', 'file not found: /from/code/crl.pem'), overridden, env) as Error).message).toBe(
      'crlPath: file not found: /from/code/crl.pem',
    );
    expect((withEnvVariable(new MtlsConfigError('trustStorePath', 'required'), overridden, env) as Error).message).toBe('trustStorePath: required');
    expect((withEnvVariable(new MtlsConfigError('validateCerts', 'x'), { validateCerts: true }, {}) as Error).message).toBe('validateCerts: x');
  });

  it('leaves other errors, settings that are not options, and errors naming a variable already as they are', () => {
    const plain = new Error('boom');
    expect(withEnvVariable(plain, {}, {})).toBe(plain);
    const adapter = new MtlsConfigError('MtlsExpressAdapter', 'no MtlsModule in the application');
    expect(withEnvVariable(adapter, {}, { MTLS_KEY_STORE_PATH: '/k.p12' })).toBe(adapter);
    const already = new MtlsConfigError('securityLevel', 'must be ...', 'MTLS_SECURITY_LEVEL');
    expect(withEnvVariable(already, { securityLevel: 1 }, { MTLS_SECURITY_LEVEL: '1' })).toBe(already);
  });

  it('names MTLS_OCSP_RESPONDER_URL when the responder it gives cannot be used', () => {
    const env = { MTLS_OCSP: 'true', MTLS_OCSP_RESPONDER_URL: 'https://ocsp.example/' };
    const options = mtlsOptionsFromEnv(env);
    expect(options).toEqual({ ocsp: true, ocspResponderUrl: 'https://ocsp.example/' });
    let refusal: unknown;
    try {
      validateMtlsOptions(options);
    } catch (err) {
      refusal = withEnvVariable(err, options, env);
    }
    expect((refusal as Error).message).toMatch(/^MTLS_OCSP_RESPONDER_URL \(ocspResponderUrl\): must be an http: URL/);
  });
});
