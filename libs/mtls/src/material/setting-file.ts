import { readFileSync, statSync } from 'node:fs';
import { MtlsConfigError } from '../errors/mtls-config.error';

/**
 * Reads the whole file named by a setting, once. Every failure is an
 * `MtlsConfigError` naming the setting and the path: missing, a directory,
 * unreadable (with the errno code), or empty.
 */
export function readSettingFile(setting: string, path: string): Buffer {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new MtlsConfigError(setting, 'empty path');
  }
  let content: Buffer;
  try {
    if (statSync(path).isDirectory()) {
      throw new MtlsConfigError(setting, `is a directory, expected a file: ${path}`);
    }
    content = readFileSync(path);
  } catch (e) {
    if (e instanceof MtlsConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MtlsConfigError(setting, `file not found: ${path}`);
    if (code === 'EISDIR') throw new MtlsConfigError(setting, `is a directory, expected a file: ${path}`);
    throw new MtlsConfigError(setting, `cannot read ${path} (${code ?? (e as Error).message})`);
  }
  if (content.length === 0) throw new MtlsConfigError(setting, `file is empty: ${path}`);
  return content;
}
