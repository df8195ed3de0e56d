import { createHash } from 'node:crypto';
import type { MtlsOptions } from '../config/mtls-options.interface';
import type { MtlsPemSource } from '../config/pem-source.interface';
import { materialFingerprint } from './material-fingerprint';
import { loadPemMaterial } from './pem-material-loader';
import { loadTlsMaterial } from './tls-material-loader';
import type { LoadedTlsMaterial } from './tls-material.interface';

/** What one read of the material found: a hash of it (equal hashes: nothing changed), and how to parse it. */
export interface MaterialRead {
  fingerprint: string;
  /** Parses what was read; throws MtlsConfigError naming the setting. */
  load(): LoadedTlsMaterial;
}

/**
 * Where a CheckedMaterialSource reads its material from: the files of the
 * options, or a MtlsPemSource. Reading is all it does; what triggers a read
 * (file events, SIGHUP, an interval, the source's `changed`) is
 * MaterialReloadTriggers' business.
 */
export interface MaterialReader {
  /** For messages: `files` or the source's name. */
  readonly name: string;
  read(): MaterialRead | Promise<MaterialRead>;
  /** Releases what the reader holds open; called once, by the source that reads through it. */
  close?(): void;
}

/** The material files the options name (keyStorePath or certPath/keyPath, trustStorePath, intermediatesPath, crlPath). */
export function fileMaterialReader(options: MtlsOptions): MaterialReader {
  return {
    name: 'files',
    read: () => ({ fingerprint: materialFingerprint(options), load: () => loadTlsMaterial(options) }),
  };
}

/** The PEM text a MtlsPemSource supplies. */
export function pemMaterialReader(source: MtlsPemSource): MaterialReader {
  return {
    name: source.name,
    read: async () => {
      const pem = await source.read();
      const hash = createHash('sha256');
      for (const part of [pem?.key, pem?.cert, pem?.ca, pem?.crl, pem?.passphrase]) hash.update(typeof part === 'string' ? part : '').update('\0');
      return { fingerprint: hash.digest('hex'), load: () => loadPemMaterial(pem, source.name) };
    },
    close: () => source.close?.(),
  };
}
