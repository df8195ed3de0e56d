import { mtlsOptionsFromEnv } from 'nest-mtls';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { compileTrustedProxy } from 'nest-mtls/internal';
import { describePolicy } from 'nest-mtls';
import { withEnvVariable } from 'nest-mtls/internal';
import { unanchoredProblem } from 'nest-mtls/internal';
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
    expect(validateMtlsOptions({ forwardedCertHeader: 'Client-Cert' as never, trustedProxy: /^CN=envoy,O=mesh$/ }).forwardedCertHeader).toBe('client-cert');
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
    expect(configProblem(() => validateMtlsOptions({ trustedProxy: /^CN=envoy,O=mesh$/ }))).toMatch(/^forwardedCertHeader: required with trustedProxy/);
  });

  it('check the trusted proxy\'s rule at startup, naming the value', () => {
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: { spiffeId: 'spiffe://Example.org/envoy' } }))).toBe(
      'trustedProxy: spiffeId "spiffe://Example.org/envoy" is not a SPIFFE ID: the trust domain must be lowercase',
    );
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: /^CN=envoy/g }))).toMatch(/^trustedProxy: \/\^CN=envoy\/g has the g flag/);
    expect(configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: {} }))).toMatch(/^trustedProxy: an empty rule/);
  });

  it('refuse a trusted-proxy regex that is not anchored at both ends: CN=envoy would make CN=envoy-canary a proxy that speaks for every caller', () => {
    const problem = (trustedProxy: unknown) => configProblem(() => validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: trustedProxy as never }));
    expect(problem('CN=envoy')).toBe(
      'trustedProxy: /CN=envoy/ is not anchored at both ends (it does not start with ^): it admits longer names as the proxy too, and the proxy speaks for every caller; anchor it (^CN=envoy,O=mesh$) or use a rule such as {"spiffeId":"spiffe://example.org/envoy"}',
    );
    expect(problem(/^CN=envoy/)).toMatch(/^trustedProxy: \/\^CN=envoy\/ is not anchored at both ends \(it does not end with \$\)/);
    expect(problem(/^CN=envoy,O=mesh$/m)).toMatch(/\(it has the m flag, so \^ and \$ match at line breaks too\)/);
    expect(problem('^CN=envoy$|CN=mesh')).toMatch(/\(an alternative \(\|\) of it does not start with \^\)/);
    expect(problem('^CN=envoy\\$')).toMatch(/does not end with \$/); // an escaped $ is a character
    expect(problem('{"subject":"CN=envoy"}')).toMatch(/^trustedProxy: subject \/CN=envoy\/ is not anchored/);
    expect(problem({ issuer: '^CN=Proxy CA,' })).toMatch(/^trustedProxy: issuer \/\^CN=Proxy CA,\/ is not anchored/);
    expect(problem({ cn: [/^envoy$/, /envoy/] })).toMatch(/^trustedProxy: cn \/envoy\/ is not anchored/);
    // Anchored ones, strings compared whole, and policy functions (which cannot be inspected) pass.
    for (const fine of ['^CN=envoy,O=mesh$', ' ^CN=envoy,O=mesh$ ', /^(?:CN=envoy|CN=envoy-2),O=mesh$/i, '^CN=a$|^CN=b$', '^CN=x\\\\$', '{"subject":"^CN=envoy,O=mesh$","cn":"envoy"}', { cn: 'envoy' }, { spiffeId: 'spiffe://example.org/envoy' }, () => false]) {
      expect(validateMtlsOptions({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: fine }).trustedProxy).toBe(fine);
    }
    // From MTLS_TRUSTED_PROXY the error names the variable.
    const env = { MTLS_FORWARDED_CERT_HEADER: 'x-forwarded-client-cert', MTLS_TRUSTED_PROXY: 'CN=envoy' };
    const options = mtlsOptionsFromEnv(env);
    expect(configProblem(() => {
      try {
        validateMtlsOptions(options);
      } catch (err) {
        throw withEnvVariable(err, options, env);
      }
    })).toMatch(/^MTLS_TRUSTED_PROXY \(trustedProxy\): \/CN=envoy\/ is not anchored at both ends/);
  });

  it('unanchoredProblem reads the top level of a regex: groups, classes and escapes are not alternatives', () => {
    expect(unanchoredProblem(/^(a|b)$/)).toBeUndefined();
    expect(unanchoredProblem(/^[|]$/)).toBeUndefined();
    expect(unanchoredProblem(/^a\|b$/)).toBeUndefined();
    expect(unanchoredProblem(/^a$|b$/)).toBe('an alternative (|) of it does not start with ^');
    expect(unanchoredProblem(/(^a$)/)).toBe('it does not start with ^');
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
