import { MtlsConfigError } from '../errors/mtls-config.error';

/** Where a gRPC server listens. */
export interface GrpcListenAddress {
  host: string;
  port: number;
}

/**
 * The host and port of a gRPC `url` as Nest takes it (`0.0.0.0:8445`,
 * `localhost:5000`, `[::1]:8445`; Nest's default is `localhost:5000`). A
 * scheme (`dns:`, `unix:`) or anything else is refused naming `url`.
 */
export function grpcListenAddress(url: string): GrpcListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/]+)):(\d{1,5})$/.exec(url);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new MtlsConfigError('url', `must be host:port (e.g. 0.0.0.0:8445 or [::1]:8445) for a gRPC server over mutual TLS, got ${JSON.stringify(url)}`);
  }
  return { host: match[1] ?? match[2], port };
}
