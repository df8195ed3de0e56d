// The types of the material seam (MtlsMaterialSource), apart so that its implementations need not import the seam itself.

/** What our certificate is used for in this application: serving TLS, calling other services, or both. */
export type MtlsRole = 'serverAuth' | 'clientAuth';

/** The outcome of one reload. */
export interface MtlsReloadResult {
  /** `success`: new material is in place; `failure`: the last good material stays; `unchanged`: the material is as it was. */
  result: 'success' | 'failure' | 'unchanged';
  /** What asked for it: `SIGHUP`, `interval`, `change in <path>`, `change in <source>`, `requested`, `retry N after a failed reload`. */
  reason: string;
  /** The generation in use afterwards. */
  generation: number;
  /** For a failure: the one-line reason (names the setting and file). */
  error?: string;
  at: Date;
}
