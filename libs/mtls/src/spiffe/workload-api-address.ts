import { isAbsolute } from 'node:path';

/** Where the Workload API listens: the socket's path, and the address as the user wrote it (for messages). */
export interface WorkloadApiAddress {
  /** The Unix socket's absolute path. */
  path: string;
  /** `unix:///run/spire/sockets/agent.sock` */
  uri: string;
}

/**
 * The Unix socket of a SPIFFE Workload API address, as the SPIFFE Workload
 * Endpoint specification writes it in `SPIFFE_ENDPOINT_SOCKET`:
 * `unix:///run/spire/sockets/agent.sock` (also `unix:/path`), or a bare
 * absolute path. Returns why it is not one otherwise: `tcp://` endpoints are
 * refused (a SPIRE agent attests its callers by the peer credentials of a
 * Unix socket; over TCP it cannot), and so are relative paths, queries,
 * fragments and hosts.
 */
export function workloadApiAddress(value: string): WorkloadApiAddress | string {
  const text = value.trim();
  if (text === '') return 'is empty; expected unix:///path/to/agent.sock';
  if (isAbsolute(text)) return { path: text, uri: `unix://${text}` };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'tcp') return `"${text}": tcp:// Workload API endpoints are not supported (the agent attests its callers over a Unix socket); give unix:///path/to/agent.sock`;
  if (scheme !== 'unix') return `"${text}" is not a Unix socket address; expected unix:///path/to/agent.sock`;
  let rest = text.slice('unix:'.length);
  if (/[?#]/.test(rest)) return `"${text}": a Unix socket address has no query or fragment`;
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    // `unix://host/path`: the authority must be empty (`unix:///path`).
    if (!rest.startsWith('/')) return `"${text}": the path must be absolute, with an empty host (three slashes: unix:///path/to/agent.sock)`;
  }
  if (!rest.startsWith('/')) return `"${text}": the path must be absolute (unix:///path/to/agent.sock)`;
  let path: string;
  try {
    path = decodeURIComponent(rest);
  } catch {
    return `"${text}": the path is not valid percent-encoding`;
  }
  if (path.length < 2 || path.includes('\0')) return `"${text}": no socket path`;
  return { path, uri: `unix://${path}` };
}
