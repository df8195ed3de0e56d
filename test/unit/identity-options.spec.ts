import { mtlsOptionsFromEnv } from 'nest-mtls';
import { validateMtlsOptions } from 'nest-mtls/config/validate-mtls-options';
import { compileTrustedProxy } from 'nest-mtls/config/trusted-proxy';
import { describePolicy } from 'nest-mtls';
import { configProblem } from '../support/config-problem';


/** The options of issue 10: default policy, audit mode, trusted proxy, endpoint identification. */
describe('identity options', () => {
  it('default to any verified certificate, enforced; no proxy; no endpoint identification', () => {
    const o = validateMtlsOptions({ keyStorePath: 'k.p12' });
    expect(o).toMatchObject({ defaultPolicy: 'any-verified', policyMode: 'enforce' });
    expect(o.forwardedCertHeader).toBeUndefined();
    expect(o.endpointIdentification).toBeUndefined();
  });

  it('take their values in any case where the standard does, and refuse others naming the option', () => {
    expect(validateMtlsOptions({ forwardedCertHeader: 'Client-Cert' as never, trustedProxy: /^CN=envoy,/ }).forwardedCertHeader).toBe('client-cert');
    expect(validateMtlsOptions({ endpointIdentification: 'https' as never }).endpointIdentification).toBe('HTTPS');
    expect(configProblem(() => validateMtlsOptions({ defaultPolicy: 'allow' as never }))).toBe('defaultPolicy: must be one of any-verified, deny, got "allow"');
    expect(configProblem(() => validateMtlsOptions({ policyMode: 'report' as never }))).toBe('policyMode: must be one of enforce, audit, got "report"');
    expect(configProblem(() => validateMtlsOptions({ endpointIdentification: 'LDAPS' as never }))).toBe('endpointIdentification: must be HTTPS, got "LDAPS"');
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-client-cert' as never, trustedProxy: /x/ }))).toBe(
      'forwardedCertHeader: must be one of x-forwarded-client-cert, client-cert, got "x-client-cert"',
    );
  });

  it('want forwardedCertHeader and trustedProxy together', () => {
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert' }))).toMatch(/^trustedProxy: required with forwardedCertHeader/);
    expect(configProblem(() => validateMtlsOptions({ trustedProxy: /^CN=envoy,/ }))).toMatch(/^forwardedCertHeader: required with trustedProxy/);
  });

  it('check the trusted proxy\'s rule at startup, naming the value', () => {
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: { spiffeId: 'spiffe://Example.org/envoy' } }))).toBe(
      'trustedProxy: spiffeId "spiffe://Example.org/envoy" is not a SPIFFE ID: the trust domain must be lowercase',
    );
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: /^CN=envoy/g }))).toMatch(/^trustedProxy: \/\^CN=envoy\/g has the g flag/);
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: {} }))).toMatch(/^trustedProxy: an empty rule/);
  });

  it('read from MTLS_* variables: the proxy as a DN regex, or a JSON rule', () => {
    const env = {
      MTLS_DEFAULT_POLICY: 'deny',
      MTLS_POLICY_MODE: 'audit',
      MTLS_FORWARDED_CERT_HEADER: 'x-forwarded-client-cert',
      MTLS_TRUSTED_PROXY: '{"spiffeId":"spiffe://example.org/envoy"}',
      MTLS_ENDPOINT_IDENTIFICATION: 'HTTPS',
    };
    const o = mtlsOptionsFromEnv(env);
    expect(o).toEqual({ defaultPolicy: 'deny', policyMode: 'audit', forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: '{"spiffeId":"spiffe://example.org/envoy"}', endpointIdentification: 'HTTPS' });
    expect(describePolicy(compileTrustedProxy(o.trustedProxy!))).toBe('SPIFFE ID is spiffe://example.org/envoy');
    expect(describePolicy(compileTrustedProxy('^CN=envoy,O=mesh$'))).toBe('subject DN matches /^CN=envoy,O=mesh$/');
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_POLICY_MODE: 'loud' }))).toBe('MTLS_POLICY_MODE (policyMode): must be one of enforce, audit, got "loud"');
  });
});
