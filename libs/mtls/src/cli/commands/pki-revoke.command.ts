import type { CrlReason } from '../../testing';
import { revokeInPki } from '../../dev-pki';
import { readCertificateFile } from '../certificate-file';
import { type CliCommand, type CliIo, parseCommandArgs, stringOption, UsageError } from './command';

const REASONS: CrlReason[] = ['keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'];

const HELP = `Usage: mtls pki revoke DIR --cert FILE [--reason REASON]

Revokes a certificate the global CA of the dev PKI in DIR issued, and
publishes new CRLs at once: crl.pem (for crlPath; a running service reloads
it) and global-ca.crl (DER, what a CRL distribution point serves). The
revocation is also written to index.txt, the OpenSSL CA database that
\`openssl ocsp -index DIR/index.txt\` answers from.

Options:
  --cert FILE      the certificate to revoke (PEM or DER; the first of a chain)
  --reason REASON  ${REASONS.join(', ')}
  -h, --help       this help
`;

export const pkiRevokeCommand: CliCommand = {
  name: 'pki revoke',
  summary: 'revoke a certificate of the dev PKI and publish new CRLs',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, { cert: { type: 'string' }, reason: { type: 'string' } });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing DIR' : `expected one DIR, got ${positionals.length} arguments`);
    const file = stringOption(values, 'cert');
    if (file === undefined || file === '') throw new UsageError('--cert FILE is required');
    const reason = stringOption(values, 'reason');
    if (reason !== undefined && !REASONS.includes(reason as CrlReason)) throw new UsageError(`--reason must be one of ${REASONS.join(', ')}, got "${reason}"`);
    const { certificates } = readCertificateFile(file);
    const revoked = await revokeInPki(positionals[0], certificates[0].certificate, { reason: reason as CrlReason | undefined });
    io.stdout.write(
      [
        `Revoked ${revoked.subject} (serial ${revoked.serialNumber}) at ${revoked.revokedAt.toISOString()}${reason ? ` (${reason})` : ''}.`,
        `  CRLs       ${revoked.crl} (for crlPath)`,
        `             ${revoked.globalCrl} (DER, for a CRL distribution point)`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
