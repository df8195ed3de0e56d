import { identityFromCertificate } from '../../identity/identity-from-certificate';
import { anyOf, requirementFromText } from '../../policy/client-cert-policies';
import { checkPolicyDnPatterns } from '../../policy/dn-pattern';
import { decidePolicy, describePolicy, explainPolicy, type PolicyExplanation } from '../../policy/policy-explanation';
import { policyRefusalWords } from '../../guard/guard-verdict';
import { readCertificateFile } from '../certificate-file';
import { type CliCommand, type CliIo, CommandError, dnFormatOption, listOption, parseCommandArgs, stringOption, UsageError } from './command';

/** Exit code of `mtls explain` when the certificate does not pass (0: it passes; 1: an error; 2: a usage error). */
export const EXPLAIN_REFUSED = 3;

const HELP = `Usage: mtls explain CERT --policy POLICY [--policy POLICY]... [--password P] [--alias A] [--dn-format jdk]

Says whether ClientCertGuard would admit a caller presenting CERT under
POLICY, and which part of the policy decided: for a refusal, the reason the
rule that refused, what it wanted, what CERT has, and the line the guard
logs (which names the rule and what CERT has, never the policy). CERT is PEM, DER, PKCS#12 or
JKS (the first certificate, or the key entry --alias). The chain and the
validity are not checked here: the TLS handshake does that before any policy.

POLICY is what @RequireClientCert takes, written as text:
  a subject DN regex        '^CN=home-page-service(,|$)'
  a rule as JSON            '{"spiffeId":["spiffe://example.org/home-page-service"]}'
                            '{"spiffeTrustDomain":"example.org","ou":"payments"}'
                            '{"ip":["10.0.0.0/8"],"issuer":"^CN=Payments CA,"}'
  (in a JSON rule, subject and issuer are regex sources; other strings compare
  whole). Several --policy: any of them, as several requirements are.

With --dn-format jdk (an application with dnFormat: 'jdk', the article's
Dropwizard filter): the DNs are written as Java's getSubjectDN().getName()
writes them, and a DN regex is a Java regex that must match the whole DN
(Matcher.matches()), e.g. '^CN=home-page-service, OU=Engineering, .*$'.

Exit status: 0 admitted, ${EXPLAIN_REFUSED} refused, 1 the file cannot be read, 2 usage
(a malformed policy is named).

Options:
  --policy POLICY  the policy (repeatable: any of them)
  --password P     password of a PKCS#12 or JKS store
  --alias A        the key entry A of a PKCS#12 or JKS store
  --dn-format F    rfc4514 (default) or jdk: the application's dnFormat
  -h, --help       this help
`;

/** The explanation as lines: the deciding reason, then each part that was weighed. */
function partLines(explanation: PolicyExplanation, depth = 1): string[] {
  return (explanation.parts ?? []).flatMap((part) => [
    `${'  '.repeat(depth)}${part.allowed ? 'admits ' : 'refuses'}  ${part.reason}`,
    ...(part.parts && part.parts.length > 1 ? partLines(part, depth + 1) : []),
  ]);
}

export const explainCommand: CliCommand = {
  name: 'explain',
  summary: 'say whether a certificate passes a policy (DN regex or JSON rule), and which part decided',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      policy: { type: 'string', multiple: true },
      password: { type: 'string' },
      alias: { type: 'string' },
      'dn-format': { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing CERT' : `expected one CERT, got ${positionals.length} arguments`);
    const dnFormat = dnFormatOption(values);
    const texts = listOption(values, 'policy');
    if (texts.length === 0) throw new UsageError("--policy is required (a DN regex, or a rule as JSON: '{\"spiffeId\":[\"spiffe://example.org/a\"]}')");
    const policies = texts.map((text) => {
      try {
        const policy = requirementFromText(text, '--policy');
        checkPolicyDnPatterns(policy, dnFormat, '--policy');
        return policy;
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    });
    const policy = policies.length === 1 ? policies[0] : anyOf(...policies);
    const file = positionals[0];
    const { certificates } = readCertificateFile(file, { password: stringOption(values, 'password'), alias: stringOption(values, 'alias') });
    const certificate = certificates[0].certificate;
    let identity;
    try {
      identity = identityFromCertificate(certificate, { dnFormat });
    } catch (err) {
      throw new CommandError(`${file}: its names cannot be read as the guard reads them, so every policy refuses it: ${(err as Error).message}`);
    }
    // The decision is the guard's (it logs its reason); the explanation adds which part admitted, and every part weighed.
    const decision = decidePolicy(policy, identity);
    const explanation = explainPolicy(policy, identity);
    const lines = [
      `subject: ${identity.subject}`,
      `spiffe:  ${identity.spiffeId ?? (identity.san.uri.length > 1 ? `none (${identity.san.uri.length} URI SANs; an X509-SVID has exactly one)` : 'none')}`,
      `policy:  ${describePolicy(policy, dnFormat)}`,
      `result:  ${decision.allowed ? 'admitted' : 'refused'}`,
      `because: ${explanation.allowed === decision.allowed ? explanation.reason : decision.allowed ? 'admitted' : decision.reason}`,
    ];
    if (!decision.allowed) {
      lines.push(`rule:    ${decision.rule}`, `wanted:  ${decision.expected}`);
      if (decision.found !== undefined) lines.push(`found:   ${decision.found}`);
      // What ClientCertGuard's refusal line says (without the policy), to find it in the logs.
      lines.push(`logged:  ${policyRefusalWords(decision, identity)}`);
    }
    const parts = partLines(explanation);
    if (parts.length > 1) lines.push('parts:', ...parts);
    const now = Date.now();
    if (identity.validTo.getTime() < now) lines.push(`note: the certificate expired on ${identity.validTo.toISOString()}: the TLS handshake refuses it before any policy`);
    else if (identity.validFrom.getTime() > now) lines.push(`note: the certificate is not valid before ${identity.validFrom.toISOString()}: the TLS handshake refuses it before any policy`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return decision.allowed ? 0 : EXPLAIN_REFUSED;
  },
};
