import type { INestMicroservice, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo, Server } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { mtlsTcpMicroservice, type MtlsTcpServerOptions } from 'nest-mtls/microservices';
import { CapturingLogger } from './start-app';

export interface RunningMicroservice {
  app: INestMicroservice;
  port: number;
  logs: CapturingLogger;
  close(): Promise<void>;
}

/**
 * Starts `module` as a Nest microservice over TCP with mutual TLS on
 * 127.0.0.1 and a free port, the way Nest users test one: a TestingModule,
 * then createNestMicroservice with mtlsTcpMicroservice().
 */
export async function startMtlsMicroservice(module: Type, tcp: MtlsTcpServerOptions = {}): Promise<RunningMicroservice> {
  const logs = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [module] }).setLogger(logs).compile();
  const app = moduleRef.createNestMicroservice({ ...mtlsTcpMicroservice({ host: '127.0.0.1', port: 0, ...tcp }), logger: logs });
  await app.listen();
  const port = (app.unwrap<Server>().address() as AddressInfo).port;
  return { app, port, logs, close: () => app.close() };
}

/** What a raw TLS client got for one Nest TCP message: the answer packet, or how the connection ended before one. */
export type RawRpcOutcome = { answer: { response?: unknown; err?: unknown; isDisposed?: boolean } } | { failed: string };

/**
 * One Nest TCP message (`<length>#<json>` framing) over a fresh TLS
 * connection made with Node's `tls.connect`, not Nest's client: a refused
 * handshake shows as `failed` with the error code Node reports.
 */
export function rawRpc(port: number, tls: ConnectionOptions, pattern: unknown, data: unknown, timeoutMs = 5000): Promise<RawRpcOutcome> {
  return new Promise((resolve) => {
    let buffer = '';
    let done = false;
    const finish = (outcome: RawRpcOutcome) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(outcome);
    };
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tls }, () => {
      const body = JSON.stringify({ pattern, data, id: 'raw-1' });
      socket.write(`${body.length}#${body}`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const hash = buffer.indexOf('#');
      if (hash < 0) return;
      const length = Number(buffer.slice(0, hash));
      if (buffer.length - hash - 1 < length) return;
      finish({ answer: JSON.parse(buffer.slice(hash + 1, hash + 1 + length)) });
    });
    socket.on('error', (err: Error & { code?: string }) => finish({ failed: err.code ?? err.message }));
    socket.on('close', () => finish({ failed: 'closed' }));
    setTimeout(() => finish({ failed: 'timeout' }), timeoutMs).unref();
  });
}
