import { X509Certificate } from 'node:crypto';
import { allOf, anyOf, compileRequirement, compileRule, requirementFromText } from 'nest-mtls/internal';
import { checkPolicyDnPatterns } from 'nest-mtls/internal';
import { describePolicy, explainPolicy, identityFromCertificate, mtlsOptionsFromEnv, subjectMatches, type ClientIdentity } from 'nest-mtls';
import { compileTrustedProxy } from 'nest-mtls/internal';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { configProblem } from '../support/config-problem';
import { TestPki } from '../support/test-pki';

/** The `dnFormat` option, and how policies read DN regexes under each form (Java's own verdicts: test/unit/jdk-dn.spec.ts). */
describe('dnFormat', () => {
  it('defaults to rfc4514, takes jdk, and refuses anything else naming the option or its variable', () => {
    expect(validateMtlsOptions({}).dnFormat).toBe('rfc4514');
    expect(validateMtlsOptions({ dnFormat: 'jdk' }).dnFormat).toBe('jdk');
    expect(configProblem(() => validateMtlsOptions({ dnFormat: 'java' as never }))).toBe('dnFormat: must be one of rfc4514, jdk, got "java"');
    expect(configProblem(() => validateMtlsOptions({ dnFormat: 'JDK' as never }))).toBe('dnFormat: must be one of rfc4514, jdk, got "JDK"');
    expect(mtlsOptionsFromEnv({ MTLS_DN_FORMAT: 'jdk' })).toEqual({ dnFormat: 'jdk' });
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_DN_FORMAT: 'x500' }))).toBe('MTLS_DN_FORMAT (dnFormat): must be one of rfc4514, jdk, got "x500"');
    expect(configProblem(() => mtlsOptionsFromEnv({ MTLS_DN_FORMT: 'jdk' }))).toBe('MTLS_DN_FORMT: not a setting of nest-mtls; did you mean MTLS_DN_FORMAT?');
    expect(configProblem(() => validateMtlsOptions({ dnformat: 'jdk' } as never))).toBe('dnformat: is not an option of MtlsModule; did you mean "dnFormat"?');
  });

  it('reads the trusted proxy\'s string regex as a Java regex under jdk, and refuses what JavaScript cannot match exactly', () => {
    const proxy = { forwardedCertHeader: 'x-forwarded-client-cert' as const };
    expect(validateMtlsOptions({ ...proxy, dnFormat: 'jdk', trustedProxy: '^CN=envoy, O=mesh$' }).trustedProxy).toBe('^CN=envoy, O=mesh$');
    expect(configProblem(() => validateMtlsOptions({ ...proxy, dnFormat: 'jdk', trustedProxy: '^CN=\\p{Lower}+, O=mesh$' }))).toBe(
      "trustedProxy: the Java regex \"^CN=\\p{Lower}+, O=mesh$\" cannot be used (dnFormat jdk): \\p{Lower} at character 5: a \\p{...} class: Java's POSIX, java..., script and block classes and its Unicode version differ from JavaScript's",
    );
    // The same string is a good JavaScript regex: rfc4514 takes it (as before).
    expect(validateMtlsOptions({ ...proxy, trustedProxy: '^CN=\\p{Lower}+, O=mesh$' }).dnFormat).toBe('rfc4514');
    // Java syntax JavaScript has no notion of: refused under rfc4514 with JavaScript's reason.
    expect(configProblem(() => validateMtlsOptions({ ...proxy, trustedProxy: '(?i)^cn=envoy' }))).toMatch(/^trustedProxy: "\(\?i\)\^cn=envoy" is not a regular expression: Invalid regular expression/);
    expect(describePolicy(compileTrustedProxy('(?i)^cn=envoy, .*', 'jdk'), 'jdk')).toBe('subject DN matches the Java regex "(?i)^cn=envoy, .*" (the whole DN)');
  });
});

describe('DN regexes under each form', () => {
  let pki: TestPki;
  let rfc: ClientIdentity;
  let jdk: ClientIdentity;

  beforeAll(async () => {
    pki = await TestPki.create();
    const cert = new X509Certificate((await pki.issue('article', { subject: 'CN=home-page-service,OU=Engineering,O=Example,C=US' })).issued.certPem);
    rfc = identityFromCertificate(cert);
    jdk = identityFromCertificate(cert, { dnFormat: 'jdk' });
  });
  afterAll(() => pki?.cleanup());

  it('the identity says which form its DNs are in', () => {
    expect(rfc).toMatchObject({ subject: 'CN=home-page-service,OU=Engineering,O=Example,C=US', issuer: 'CN=Test Global CA,O=nest-mtls test', dnFormat: 'rfc4514' });
    expect(jdk).toMatchObject({ subject: 'CN=home-page-service, OU=Engineering, O=Example, C=US', issuer: 'CN=Test Global CA, O=nest-mtls test', dnFormat: 'jdk' });
    // Everything but the DNs is the same.
    expect({ ...jdk, subject: '', issuer: '', dnFormat: '' }).toEqual({ ...rfc, subject: '', issuer: '', dnFormat: '' });
  });

  it('a string matches the whole Java DN under jdk, and searches the RFC 4514 DN otherwise', () => {
    const prefix = compileRequirement('CN=home-page-service');
    expect(prefix(jdk)).toBe(false); // Matcher.matches(): the whole DN
    expect(prefix(rfc)).toBe(true); // RegExp.test: anywhere
    const article = compileRequirement('^CN=home-page-service, OU=Engineering, O=Example, .*$');
    expect(article(jdk)).toBe(true);
    expect(article(rfc)).toBe(false);
  });

  it('a RegExp searches in either form', () => {
    const re = compileRequirement(/OU=Engineering/);
    expect(re(jdk)).toBe(true);
    expect(re(rfc)).toBe(true);
    expect(compileRequirement(/^CN=home-page-service,O/)(jdk)).toBe(false);
  });

  it('rules, subjectMatches, anyOf and allOf read their strings the same way; identities built by hand count as rfc4514', () => {
    expect(compileRule({ subject: 'CN=home-page-service, .*', issuer: 'CN=Test Global CA, O=nest-mtls test' })(jdk)).toBe(true);
    expect(compileRule({ issuer: 'CN=Test Global CA' })(jdk)).toBe(false);
    expect(subjectMatches('.*, C=US')(jdk)).toBe(true);
    expect(anyOf(subjectMatches('CN=other'), subjectMatches('CN=home-page-service.*'))(jdk)).toBe(true);
    expect(allOf(subjectMatches('CN=home-page-service.*'), compileRule({ ou: 'Engineering' }))(jdk)).toBe(true);
    const byHand = { ...rfc, dnFormat: undefined };
    expect(compileRequirement('OU=Engineering')(byHand)).toBe(true);
  });

  it('descriptions and explanations say how a string is read', () => {
    const policy = requirementFromText('{"subject":"CN=home-page-service, .*","ou":"Engineering"}', '--policy');
    expect(describePolicy(policy)).toBe('subject DN matches /CN=home-page-service, .*/ and OU is Engineering');
    expect(describePolicy(policy, 'jdk')).toBe('subject DN matches the Java regex "CN=home-page-service, .*" (the whole DN) and OU is Engineering');
    expect(explainPolicy(policy, jdk).reason).toBe('subject DN CN=home-page-service, OU=Engineering, O=Example, C=US matches the Java regex "CN=home-page-service, .*" (the whole DN); OU Engineering is Engineering');
    expect(describePolicy(anyOf(compileRequirement(/^CN=a,/), compileRequirement('CN=b')), 'jdk')).toBe('any of: (subject DN matches /^CN=a,/) or (subject DN matches the Java regex "CN=b" (the whole DN))');
  });

  it('a string that is a regex in only one language is kept, and refused at startup under the form that cannot read it', () => {
    const javaOnly = compileRequirement('(?i)^cn=HOME-page-service, .*'); // (?i) is no JavaScript
    expect(javaOnly(jdk)).toBe(true);
    expect(() => checkPolicyDnPatterns(javaOnly, 'jdk', 'X.y')).not.toThrow();
    expect(() => checkPolicyDnPatterns(javaOnly, 'rfc4514', 'X.y')).toThrow(/^X\.y: "\(\?i\)\^cn=HOME-page-service, \.\*" is not a regular expression/);
    const jsOnly = anyOf(compileRequirement({ subject: '^CN=home\\b' }), compileRequirement(/x/));
    expect(() => checkPolicyDnPatterns(jsOnly, 'rfc4514', 'X.y')).not.toThrow();
    expect(() => checkPolicyDnPatterns(jsOnly, 'jdk', 'X.y')).toThrow(
      'X.y: the Java regex "^CN=home\\b" cannot be used (dnFormat jdk): \\b at character 9: a word boundary: Java 17\'s counts every Unicode letter and digit as a word character, JavaScript\'s only ASCII ones',
    );
    // A policy that reaches the guard anyway fails closed: the guard turns the throw into a refusal.
    expect(() => javaOnly(rfc)).toThrow(/is not a regular expression/);
  });

  it('a string that is a regex in neither language is refused where it is written, as before', () => {
    expect(() => compileRequirement('(', '@RequireClientCert')).toThrow(/^@RequireClientCert: "\(" is not a regular expression/);
    expect(() => compileRequirement('a{3,1}')).toThrow(/is not a regular expression/);
    expect(() => compileRequirement(/x/g)).toThrow(/has the g flag/);
  });
});
