import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { WORKLOAD_HEADER, WORKLOAD_PROTO } from './workload-api-proto';
import type { X509SvidResponse } from './x509-svid-answer';

/** A broken stream is opened again after 1 s, 2 s, 3 s, ... at most every 30 s (go-spiffe's linear backoff); an answer resets it. */
const BACKOFF_STEP_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

type WorkloadClient = grpc.Client & {
  FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<X509SvidResponse>;
};
type WorkloadClientConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => WorkloadClient;

let constructor: WorkloadClientConstructor | undefined;

/** The generated client of `SpiffeWorkloadAPI`, loaded from workload.proto once per process. */
function workloadClient(): WorkloadClientConstructor {
  if (!constructor) {
    const definition = protoLoader.loadSync(WORKLOAD_PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    constructor = (grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: WorkloadClientConstructor }).SpiffeWorkloadAPI;
  }
  return constructor;
}

/** Why a stream broke: the gRPC status (`UNAVAILABLE`, `INVALID_ARGUMENT`, ...) and its details. */
export interface StreamBreak {
  code: string;
  /** One line: `UNAVAILABLE: No connection established. Last error: connect ENOENT /run/spire/sockets/agent.sock` */
  message: string;
}

/** What a WorkloadApiStream reports. */
export interface StreamListener {
  /** An X509SVIDResponse arrived. */
  answer(response: X509SvidResponse): void;
  /** The stream broke (or could not open); it is opened again after `retryInMs`. */
  broken(why: StreamBreak, retryInMs: number): void;
}

/**
 * Follows the FetchX509SVID stream of a Workload API on a Unix socket, with
 * @grpc/grpc-js: opens it with the `workload.spiffe.io: true` header, reports
 * every answer, and when the stream breaks or ends (agent restarted, socket
 * gone) opens it again with backoff, on a fresh channel each time (so no
 * reconnection backoff of an old channel delays it), until `close()`.
 */
export class WorkloadApiStream {
  private client?: WorkloadClient;
  private call?: grpc.ClientReadableStream<X509SvidResponse>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private closed = false;

  constructor(
    /** Absolute path of the socket. */
    private readonly socketPath: string,
    private readonly listener: StreamListener,
  ) {}

  /** Opens the stream; the first call only. */
  start(): void {
    if (this.client || this.timer || this.closed) return;
    this.open();
  }

  private open(): void {
    this.timer = undefined;
    if (this.closed) return;
    const Client = workloadClient();
    // The default authority of a unix: target is "localhost"; SPIRE does not look at it.
    const client = new Client(`unix:${this.socketPath}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
    const metadata = new grpc.Metadata();
    metadata.set(WORKLOAD_HEADER.name, WORKLOAD_HEADER.value);
    const call = client.FetchX509SVID({}, metadata);
    this.client = client;
    this.call = call;
    call.on('data', (response: X509SvidResponse) => {
      if (this.call !== call) return;
      this.failures = 0;
      this.listener.answer(response);
    });
    // 'error' comes with a status that is not OK, 'status' always: both end here once.
    call.on('error', (err: grpc.ServiceError) => this.ended(call, { code: grpc.status[err.code] ?? String(err.code), message: oneLine(`${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`) }));
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK) this.ended(call, { code: 'OK', message: 'the Workload API ended the stream' });
    });
  }

  /** The stream `call` is over: drop its channel and open another after the backoff. */
  private ended(call: grpc.ClientReadableStream<X509SvidResponse>, why: StreamBreak): void {
    if (this.call !== call || this.closed) return;
    this.call = undefined;
    this.client?.close();
    this.client = undefined;
    this.failures++;
    const retryInMs = Math.min(BACKOFF_MAX_MS, BACKOFF_STEP_MS * this.failures);
    this.timer = setTimeout(() => this.open(), retryInMs);
    this.timer.unref();
    this.listener.broken(why, retryInMs);
  }

  /** Cancels the stream and stops reconnecting. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.client?.close();
    this.client = undefined;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
