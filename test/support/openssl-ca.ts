import { renameSync, writeFileSync } from 'node:fs';
import { opensslOk } from './openssl-cli';
import type { TempDir } from './temp-dir';

/** One line of an OpenSSL CA database (`index.txt`), as `openssl ca` and `openssl ocsp -index` read it. */
export interface IndexEntry {
  /** Hex serial number (any case, colons allowed). */
  serialNumber: string;
  /** OpenSSL's slash form, e.g. `/CN=home-page-service/O=nest-mtls`; any text works for CRLs and OCSP. */
  subject?: string;
  notAfter?: Date;
  /** Revoked at this time when set. */
  revokedAt?: Date;
  /** OpenSSL's reason names: `keyCompromise`, `CACompromise`, `superseded`, `certificateHold`, ... */
  reason?: string;
}

/** `YYMMDDHHMMSSZ`, the time format of index.txt. */
function indexTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** The text of an index.txt with these entries (serials upper-case hex of even length, as openssl writes them). */
export function opensslIndex(entries: IndexEntry[]): string {
  return entries
    .map((e) => {
      let serial = e.serialNumber.replace(/:/g, '').toUpperCase().replace(/^0+/, '');
      if (serial.length % 2) serial = `0${serial}`;
      const expiry = indexTime(e.notAfter ?? new Date(Date.now() + 365 * 86_400_000));
      const revoked = e.revokedAt ? indexTime(e.revokedAt) + (e.reason ? `,${e.reason}` : '') : '';
      return `${e.revokedAt ? 'R' : 'V'}\t${expiry}\t${revoked}\t${serial}\tunknown\t${e.subject ?? '/CN=unknown'}\n`;
    })
    .join('');
}

/**
 * A CRL made by `openssl ca -gencrl` from an index of these entries, signed
 * by the CA in `caCert`/`caKey` (files), valid for `hours` (default 24):
 * the path of the PEM file. Fast even for 100,000 entries.
 */
export function opensslCrl(dir: TempDir, name: string, caCert: string, caKey: string, entries: IndexEntry[], hours = 24): string {
  const index = dir.write(`${name}.index.txt`, opensslIndex(entries));
  dir.write(`${name}.index.txt.attr`, 'unique_subject = no\n');
  const crlnumber = dir.write(`${name}.crlnumber`, '1000\n');
  const config = dir.write(
    `${name}.ca.cnf`,
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${index}\ncrlnumber = ${crlnumber}\ndefault_md = sha256\ndefault_crl_hours = ${hours}\n`,
  );
  const out = dir.path(`${name}.crl.pem`);
  opensslOk(['ca', '-batch', '-config', config, '-gencrl', '-cert', caCert, '-keyfile', caKey, '-out', out]);
  return out;
}

/** Writes `content` over `file` by rename (as a publisher would: a reader never sees half of it). */
export function replaceFile(file: string, content: string | Buffer): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}
