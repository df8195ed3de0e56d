import { ForwardedCertificateError } from './forwarded-certificate.error';

/** One element of an `x-forwarded-client-cert` header: what one proxy added, as key/value pairs (keys lowercased). */
export type XfccElement = Array<[key: string, value: string]>;

const HEADER = 'x-forwarded-client-cert';
const KEY = /^[A-Za-z][A-Za-z0-9-]*$/;
/** Keys a proxy writes once per element: a second one is an injection attempt or a broken proxy. */
const SINGLE = new Set(['by', 'hash', 'cert', 'chain', 'subject']);

/**
 * Parses Envoy's `x-forwarded-client-cert`: elements separated by `,`, each
 * `key=value` pairs separated by `;`; a value holding `,` `;` `=` or `"` is
 * double-quoted, with `\"` for a quote (Envoy escapes only that; `\\` is read
 * as `\`). Quoted text is never split: `Subject="CN=a;Cert=x"` is one value.
 * Keys are case-insensitive; `By`, `Hash`, `Cert`, `Chain` and `Subject` may
 * appear once per element, `URI` and `DNS` once per SAN. Several headers,
 * which Node joins with `, `, read as more elements. Throws
 * ForwardedCertificateError saying where the header breaks.
 */
export function parseXfcc(value: string): XfccElement[] {
  const elements: XfccElement[] = [];
  let element: XfccElement = [];
  let i = 0;
  const n = value.length;
  const skipSpaces = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const broken = (what: string) => new ForwardedCertificateError(HEADER, `${what} at character ${i + 1}`);
  if (value.trim().length === 0) throw new ForwardedCertificateError(HEADER, 'the header is empty');
  skipSpaces();
  for (;;) {
    // key
    const keyStart = i;
    while (i < n && value[i] !== '=' && value[i] !== ';' && value[i] !== ',') i++;
    const key = value.slice(keyStart, i).trim();
    if (i >= n || value[i] !== '=') throw broken(key ? `"${key}" has no value` : 'an empty field');
    if (!KEY.test(key)) throw broken(`"${key}" is not a field name`);
    i++; // '='
    // value
    let text = '';
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = value[i];
        if (c === '\\' && i + 1 < n) {
          text += value[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          text += c;
          i++;
        }
      }
      if (!closed) throw broken(`the quoted value of ${key} is not closed`);
      skipSpaces();
      if (i < n && value[i] !== ';' && value[i] !== ',') throw broken(`text after the quoted value of ${key}`);
    } else {
      const valueStart = i;
      while (i < n && value[i] !== ';' && value[i] !== ',') {
        if (value[i] === '"' || value[i] === '=') throw broken(`a ${value[i]} in the unquoted value of ${key} (values holding , ; = or " must be quoted)`);
        i++;
      }
      text = value.slice(valueStart, i).trim();
    }
    const lower = key.toLowerCase();
    if (SINGLE.has(lower) && element.some(([k]) => k === lower)) throw broken(`a second ${key} in one element`);
    element.push([lower, text]);
    if (i >= n) break;
    if (value[i] === ',') {
      elements.push(element);
      element = [];
      i++;
      skipSpaces();
      if (i >= n) throw broken('an empty element after ","');
    } else {
      i++; // ';'
      skipSpaces();
      if (i >= n) break; // a trailing ';' closes the element
    }
  }
  elements.push(element);
  return elements;
}

/** The value of `key` (lowercase) in an element; undefined when absent. */
export function xfccField(element: XfccElement, key: string): string | undefined {
  return element.find(([k]) => k === key)?.[1];
}
