/**
 * RFC 2253 escaping of one attribute value, byte for byte as OpenSSL's
 * `do_esc_char` with `ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL` and
 * without `ESC_MSB` (`-nameopt RFC2253,-esc_msb`):
 * - `, + " \ < > ;` are backslash-escaped anywhere (`=` is not);
 * - a leading `#` or space and a trailing space are backslash-escaped; a value
 *   of one character counts as "last" only, so a lone `#` stays as is;
 * - control characters (0x00-0x1F, 0x7F) become `\XX` (uppercase hex);
 * - bytes above 0x7F (UTF-8) are written raw.
 */

const ESC_2253 = 0x01;
const ESC_CTRL = 0x02;
const FIRST = 0x20;
const LAST = 0x40;

/** OpenSSL `char_type` bits that matter here, for the ASCII range. */
function charType(byte: number): number {
  if (byte < 0x20 || byte === 0x7f) return ESC_CTRL;
  switch (byte) {
    case 0x20: // space
      return FIRST | LAST;
    case 0x23: // #
      return FIRST;
    case 0x22: // "
    case 0x2b: // +
    case 0x2c: // ,
    case 0x3b: // ;
    case 0x3c: // <
    case 0x3e: // >
    case 0x5c: // backslash
      return ESC_2253;
    default:
      return 0;
  }
}

const HEX = '0123456789ABCDEF';

/**
 * Escapes a value given as characters, each character being the UTF-8 bytes
 * OpenSSL writes for it (for a UTF8String OpenSSL works byte by byte, so each
 * byte is its own character there). Returns the escaped text.
 */
export function escapeDnValue(chars: readonly (readonly number[])[]): string {
  const out: number[] = [];
  const last = chars.length - 1;
  chars.forEach((bytes, index) => {
    // Same as OpenSSL: the last character overrides (not adds to) the first.
    const position = index === last ? LAST : index === 0 ? FIRST : 0;
    for (const byte of bytes) {
      if (byte > 0x7f) {
        out.push(byte);
        continue;
      }
      const type = charType(byte) & (ESC_2253 | ESC_CTRL | position);
      if (type & (ESC_2253 | FIRST | LAST)) {
        out.push(0x5c, byte);
      } else if (type & ESC_CTRL) {
        out.push(0x5c, HEX.charCodeAt(byte >> 4), HEX.charCodeAt(byte & 0x0f));
      } else {
        out.push(byte);
      }
    }
  });
  return Buffer.from(out).toString('utf8');
}
