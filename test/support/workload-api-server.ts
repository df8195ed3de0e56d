/**
 * A SPIFFE Workload API server for tests, built from the workload.proto the
 * package ships with @grpc/grpc-js, on a Unix socket (no SPIRE binary here).
 * It behaves as a SPIRE agent does where our source can tell: a call without
 * the `workload.spiffe.io: true` header is refused with InvalidArgument
 * ("security header missing from request"); FetchX509SVID sends the current
 * answer at once and every later one as it is pushed; it can answer
 * PermissionDenied ("no identity issued"), break every stream, and stop and
 * start again on the same socket.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { rmSync } from 'node:fs';
import type { IssuedCertificate } from 'nest-mtls/testing';
import { WORKLOAD_HEADER, WORKLOAD_PROTO, type X509SvidMessage, type X509SvidResponse } from 'nest-mtls/internal';

type Stream = grpc.ServerWritableStream<object, X509SvidResponse>;

const definition = protoLoader.loadSync(WORKLOAD_PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const api = grpc.loadPackageDefinition(definition) as unknown as {
  SpiffeWorkloadAPI: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition };
};

/** The X509SVID message of `svid` (its chain as concatenated DER, its key as PKCS#8 DER) with `bundle` as its trust bundle. */
export function svidMessage(spiffeId: string, svid: IssuedCertificate, bundle: IssuedCertificate[], overrides: Partial<X509SvidMessage> = {}): X509SvidMessage {
  return {
    spiffe_id: spiffeId,
    x509_svid: Buffer.concat(svid.chain.map((c) => c.raw)),
    x509_svid_key: svid.key.export({ type: 'pkcs8', format: 'der' }),
    bundle: Buffer.concat(bundle.map((ca) => ca.certificate.raw)),
    hint: '',
    ...overrides,
  };
}

/** An X509SVIDResponse of these SVIDs. */
export function answer(svids: X509SvidMessage[], extra: Partial<X509SvidResponse> = {}): X509SvidResponse {
  return { svids, crl: [], federated_bundles: {}, ...extra };
}

export class FakeWorkloadApi {
  private server?: grpc.Server;
  private readonly streams = new Set<Stream>();
  private current?: X509SvidResponse;
  private refusal?: { code: grpc.status; details: string };
  /** The value of the `workload.spiffe.io` header of every call, in order (undefined: absent). */
  readonly headers: (string | undefined)[] = [];
  /** How many FetchX509SVID calls were let in. */
  calls = 0;

  constructor(readonly socketPath: string) {}

  /** `unix:///...`, as SPIFFE_ENDPOINT_SOCKET holds it. */
  get uri(): string {
    return `unix://${this.socketPath}`;
  }

  /** Starts (or starts again) listening on the socket. */
  async start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    const server = new grpc.Server();
    server.addService(api.SpiffeWorkloadAPI.service, {
      FetchX509SVID: (call: Stream) => this.fetch(call),
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    this.server = server;
  }

  /** Stops listening and breaks every stream (an agent that died): the socket is gone. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    server.forceShutdown();
    rmSync(this.socketPath, { force: true });
  }

  /** Sends `response` on every open stream, and to every stream opened later. */
  push(response: X509SvidResponse): void {
    this.current = response;
    this.refusal = undefined;
    for (const stream of this.streams) stream.write(response);
  }

  /** New calls get this status instead of an answer (PermissionDenied "no identity issued" is what SPIRE says to an unregistered workload). */
  refuse(code: grpc.status, details: string): void {
    this.refusal = { code, details };
  }

  /** How many streams are open. */
  get open(): number {
    return this.streams.size;
  }

  private fetch(call: Stream): void {
    const header = call.metadata.get(WORKLOAD_HEADER.name);
    const value = header.length > 0 ? String(header[0]) : undefined;
    this.headers.push(value);
    if (value !== 'true') {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' });
      return;
    }
    if (this.refusal) {
      call.emit('error', { code: this.refusal.code, details: this.refusal.details });
      return;
    }
    this.calls++;
    this.streams.add(call);
    call.on('cancelled', () => this.streams.delete(call));
    call.on('close', () => this.streams.delete(call));
    if (this.current) call.write(this.current);
  }
}

/** A plain client of the fake (or any) Workload API, for tests about what the server demands. */
export function workloadApiClient(socketPath: string): grpc.Client & { FetchX509SVID(request: object, metadata?: grpc.Metadata): grpc.ClientReadableStream<X509SvidResponse> } {
  return new api.SpiffeWorkloadAPI(`unix:${socketPath}`, grpc.credentials.createInsecure()) as never;
}
