import { publishCrl } from '../../dev-pki';
import { type CliCommand, type CliIo, parseCommandArgs, stringOption, UsageError, wholeNumberOption } from './command';

const HELP = `Usage: mtls pki crl DIR [--days N]

Publishes fresh CRLs of the dev PKI in DIR, listing every certificate
revoked with 'mtls pki revoke': crl.pem (the root CA's and the global CA's,
for crlPath) and global-ca.crl (the global CA's alone, DER, for a CRL
distribution point). Run it before the CRLs' next update: a service refuses
(or, with revocationFailure open, stops applying) a CRL past it.

Options:
  --days N     until the next update, 1 to 3650 days (default: 365)
  -h, --help   this help
`;

export const pkiCrlCommand: CliCommand = {
  name: 'pki crl',
  summary: 'publish fresh CRLs of the dev PKI',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, { days: { type: 'string' } });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing DIR' : `expected one DIR, got ${positionals.length} arguments`);
    const days = wholeNumberOption('days', stringOption(values, 'days'), 365, 1, 3650);
    const published = await publishCrl(positionals[0], { days });
    io.stdout.write(
      [
        `Published CRLs listing ${published.revoked} revoked certificate${published.revoked === 1 ? '' : 's'}, next update ${published.nextUpdate.toISOString()}:`,
        `  ${published.crl} (root and global CA, for crlPath)`,
        `  ${published.globalCrl} (global CA, DER, for a CRL distribution point)`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
