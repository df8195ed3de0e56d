import type { TcpOptions } from '@nestjs/microservices';
import { closestName } from '../config/closest-name';
import { MtlsConfigError } from '../errors/mtls-config.error';

/** Default largest message a peer may send over the TCP transport: 1 MiB of JSON. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Default time a TCP connection may stay without traffic after its first message: 5 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60 * 1000;
/** Nest's defaults for the framing options it documents (kept by our framing). */
const DEFAULT_INCOMPLETE_MESSAGE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_SEND_BUFFER_BYTES = 128 * 1024 * 1024;
/** The largest `maxMessageBytes` accepted: Nest's own ceiling (128 M characters). */
const MAX_MESSAGE_BYTES_CEILING = 128 * 1024 * 1024;

/**
 * Options of {@link MtlsTcpServer}: Nest's TCP transport options (`port`,
 * `host`, `retryAttempts`, `retryDelay`, serializers,
 * `incompleteMessageTimeout`, `maxSendBufferSize`), without `tlsOptions`
 * (MtlsModule supplies them), `socketClass` and `maxBufferSize` (the
 * transport frames messages itself, with the limits below).
 */
export type MtlsTcpServerOptions = Omit<NonNullable<TcpOptions['options']>, 'tlsOptions' | 'socketClass' | 'maxBufferSize'> & {
  /**
   * The largest message a peer may send, in bytes of its JSON (default 1 MiB).
   * A length prefix announcing more, or a body growing past it, closes the
   * connection at once (logged `refused: protocol`), before it is buffered.
   */
  maxMessageBytes?: number;
  /**
   * A connection without traffic for this long after its first message is
   * closed (default 300000, 5 minutes; 0: never). A connection with a call
   * still being handled is not. Nest's ClientTCP opens a new connection for
   * its next call. The first message has its own, shorter deadline
   * (`requestHeaderTimeoutMs` of MtlsModule).
   */
  idleTimeoutMs?: number;
};

/** The options with our framing limits resolved. */
export interface ResolvedTcpLimits {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  incompleteMessageTimeoutMs: number;
  maxSendBufferBytes: number;
}

/** Every option MtlsTcpServer takes: any other name is a typo, refused rather than ignored. */
const TCP_OPTION_NAMES = ['host', 'port', 'retryAttempts', 'retryDelay', 'serializer', 'deserializer', 'incompleteMessageTimeout', 'maxSendBufferSize', 'maxMessageBytes', 'idleTimeoutMs'] as const;

/** Why Nest options that this transport does not take are refused. */
const REFUSED: Record<string, string> = {
  tlsOptions: 'do not pass tlsOptions; MtlsModule supplies them',
  socketClass: 'is not supported: MtlsTcpServer frames messages itself, with the limits maxMessageBytes, incompleteMessageTimeout and maxSendBufferSize',
  maxBufferSize: 'is not supported: use maxMessageBytes (the largest message in bytes; default 1 MiB)',
};

/**
 * Checks the options (throws MtlsConfigError naming the option) and returns
 * the framing limits: maxMessageBytes a whole number from 1 to 128 MiB,
 * idleTimeoutMs, incompleteMessageTimeout and maxSendBufferSize whole numbers of at least 0.
 */
export function resolveTcpLimits(options: MtlsTcpServerOptions): ResolvedTcpLimits {
  for (const name of Object.keys(options)) {
    if (name === 'tlsOptions') throw new MtlsConfigError('MtlsTcpServer', REFUSED.tlsOptions);
    const refused = REFUSED[name];
    if (refused) throw new MtlsConfigError(`MtlsTcpServer.${name}`, refused);
    if ((TCP_OPTION_NAMES as readonly string[]).includes(name)) continue;
    const suggestion = closestName(name, TCP_OPTION_NAMES);
    throw new MtlsConfigError(`MtlsTcpServer.${name}`, `is not an option of the TCP transport${suggestion ? `; did you mean "${suggestion}"?` : ` (options: ${TCP_OPTION_NAMES.join(', ')})`}`);
  }
  const limits = {
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    incompleteMessageTimeoutMs: options.incompleteMessageTimeout ?? DEFAULT_INCOMPLETE_MESSAGE_TIMEOUT_MS,
    maxSendBufferBytes: options.maxSendBufferSize ?? DEFAULT_MAX_SEND_BUFFER_BYTES,
  };
  if (!Number.isInteger(limits.maxMessageBytes) || limits.maxMessageBytes < 1 || limits.maxMessageBytes > MAX_MESSAGE_BYTES_CEILING) {
    throw new MtlsConfigError('MtlsTcpServer.maxMessageBytes', `must be a whole number of bytes from 1 to ${MAX_MESSAGE_BYTES_CEILING}, got ${JSON.stringify(options.maxMessageBytes)}`);
  }
  const counts: [keyof MtlsTcpServerOptions, number][] = [
    ['idleTimeoutMs', limits.idleTimeoutMs],
    ['incompleteMessageTimeout', limits.incompleteMessageTimeoutMs],
    ['maxSendBufferSize', limits.maxSendBufferBytes],
  ];
  for (const [name, value] of counts) {
    if (!Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
      throw new MtlsConfigError(`MtlsTcpServer.${name}`, `must be a whole number from 0 to ${2 ** 31 - 1} (0: off), got ${JSON.stringify(options[name])}`);
    }
  }
  return limits;
}
