import type { Observable } from 'rxjs';

/** One set of TLS material as PEM text, held in memory. */
export interface MtlsPemMaterial {
  /** Our private key (PKCS#8, PKCS#1 or SEC1 PEM; an encrypted one needs `passphrase`). */
  key: string;
  /** Our certificate chain, leaf first, with the intermediates to send. */
  cert: string;
  /** The CAs we trust (one or more certificates); public roots are never added. */
  ca: string;
  /** CRLs (one or more `X509 CRL` blocks), as `crlPath` would hold them; optional. */
  crl?: string;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
}

/**
 * TLS material your code supplies instead of files (the `source` option of
 * MtlsModule): from memory, a secrets manager, a workload API. MtlsModule
 * treats what `read()` returns exactly as it treats files: it parses it, runs
 * every startup check (key matches certificate, validity, chain to the trust
 * store, CRLs current, key strength, the EKU of each role in use) and the
 * loopback mutual-TLS handshake, and only then serves it; material that fails
 * is refused at startup, and at a rotation the last good material stays in
 * place (with retries, as for files). Nothing outside nest-mtls's TLS
 * endpoints ever sees the key again.
 *
 *     const vault = new Subject<void>();
 *     MtlsModule.forRoot({ source: { name: 'vault', read: () => fetchPem(), changed: vault } })
 */
export interface MtlsPemSource {
  /** Names the source in messages and logs, e.g. `vault:secret/user-service`. */
  readonly name: string;
  /** The material to use now: called at startup, after each `changed`, on SIGHUP, every `reloadIntervalMs`, and on `reload()`. */
  read(): MtlsPemMaterial | Promise<MtlsPemMaterial>;
  /** Emits when `read()` would return new material: the reload trigger of this source (nothing is polled unless `reloadIntervalMs` is set). */
  readonly changed?: Observable<unknown>;
  /** Releases what the source holds open (a connection, a timer): called once, when the MtlsMaterialSource reading it closes (MtlsModule at shutdown), or when startup fails. */
  close?(): void;
}
