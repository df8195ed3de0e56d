import { certificateReport } from '../certificate-report';
import { readCertificateFile } from '../certificate-file';
import { type CliCommand, type CliIo, CommandError, dnFormatOption, parseCommandArgs, stringOption, UsageError } from './command';

const HELP = `Usage: mtls inspect FILE [--password P] [--alias A] [--all] [--dn-format jdk]

Prints what the guard sees of a certificate. FILE is PEM, DER, PKCS#12
(.p12/.pfx) or JKS; its content decides, as for keyStorePath. The first
certificate is shown; for a file with several, a last line says how many
and --all shows each.

  subject: the DN policies match, exactly as
           openssl x509 -noout -subject -nameopt RFC2253,-esc_msb prints it
           (with --dn-format jdk: as Java's getSubjectDN().getName() does,
           the form dnFormat: 'jdk' matches)
  issuer, san, spiffe, not before, not after, serial, sha256,
  crl distribution points and ocsp: where its revocation is published,
  key entry: the alias, for a key store's own certificate
  (chain of key entry: for a CA certificate stored with it)
  and a warning line when the certificate has expired or is not yet valid.

Options:
  --password P   password of a PKCS#12 or JKS store
  --alias A      the key entry A of a PKCS#12 or JKS store (its certificate,
                 and with --all the chain stored with it)
  --all          every certificate in FILE, one block each
  --dn-format F  rfc4514 (default) or jdk: the form of the subject and issuer
  -h, --help     this help
`;

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'show the subject DN, SANs, SPIFFE ID and validity of a certificate (PEM, DER, PKCS#12, JKS)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      password: { type: 'string' },
      alias: { type: 'string' },
      all: { type: 'boolean' },
      'dn-format': { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing FILE' : `expected one FILE, got ${positionals.length} arguments`);
    const file = positionals[0];
    const dnFormat = dnFormatOption(values);
    const { certificates } = readCertificateFile(file, { password: stringOption(values, 'password'), alias: stringOption(values, 'alias') });
    const shown = values.all ? certificates : certificates.slice(0, 1);
    const blocks = shown.map(({ certificate, keyEntry }, i) => {
      let lines: string[];
      try {
        lines = certificateReport(certificate, Date.now(), dnFormat);
      } catch (err) {
        throw new CommandError(`${file}: cannot read certificate ${i + 1}: ${(err as Error).message}`);
      }
      if (keyEntry !== undefined) {
        const alias = keyEntry.alias ?? '(no alias)';
        lines.splice(lines.findIndex((l) => l.startsWith('sha256: ')) + 1, 0, keyEntry.own ? `key entry: ${alias}` : `chain of key entry: ${alias}`);
      }
      return shown.length > 1 ? [`certificate ${i + 1} of ${certificates.length}`, ...lines] : lines;
    });
    const out = blocks.map((lines) => lines.join('\n')).join('\n\n');
    const more = !values.all && certificates.length > 1 ? `\n(certificate 1 of ${certificates.length} in ${file}; --all shows each)` : '';
    io.stdout.write(`${out}${more}\n`);
    return 0;
  },
};
