import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MtlsOptions } from '../config/mtls-options.interface';

/** The options that name files of the material. */
export const MATERIAL_FILE_SETTINGS = ['keyStorePath', 'certPath', 'keyPath', 'trustStorePath', 'intermediatesPath', 'crlPath'] as const;

/** The files the material is read from (through symlinks, as the loaders read them). */
export function materialFiles(options: MtlsOptions): string[] {
  return MATERIAL_FILE_SETTINGS.flatMap((setting) => {
    const value = options[setting];
    return Array.isArray(value) ? value : [value];
  }).filter((path): path is string => typeof path === 'string' && path.length > 0);
}

/**
 * A hash of the bytes of every material file: equal hashes mean nothing on
 * disk changed, so a burst of file events or a timer tick that finds the same
 * bytes costs one read, not a reload. A missing or unreadable file gives a
 * hash of its own (a reload then reports what is wrong).
 */
export function materialFingerprint(options: MtlsOptions): string {
  const hash = createHash('sha256');
  for (const file of materialFiles(options)) {
    hash.update(file).update('\0');
    try {
      hash.update(readFileSync(file));
    } catch (err) {
      hash.update(`unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
