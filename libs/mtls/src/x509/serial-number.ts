/**
 * A certificate serial number in one spelling for lookups: lowercase hex
 * without leading zeros (`0A:1B`, `000A1B`, `a1b` are all `a1b`). Node's
 * `X509Certificate.serialNumber` and CRL entries can then be compared.
 */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

/** The normalized serial of the content octets of a DER INTEGER. */
export function serialFromDer(buffer: Buffer, start: number, end: number): string {
  let i = start;
  while (i < end - 1 && buffer[i] === 0) i++;
  const hex = buffer.toString('hex', i, end);
  return hex.length > 1 && hex[0] === '0' ? hex.slice(1) : hex;
}
