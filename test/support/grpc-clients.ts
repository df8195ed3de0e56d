import { credentials, loadPackageDefinition, type ChannelCredentials, type Client } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { spawnSync } from 'node:child_process';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { USERS_PROTO } from '../../apps/user-service/src/users-grpc.controller';
import { run } from './tls-probe';

/** What one `users.UserService/GetUser` call got: the user, or the call's status (name and details). */
export type GetUserOutcome = { user: { id: number; name: string; email: string } } | { code: string; details: string };

/** The key and certificate chain a client presents, and the CAs it trusts (PEM). */
export interface ClientPem {
  ca: string;
  cert?: string;
  key?: string;
}

type UserServiceClient = Client & {
  GetUser(request: { id: number }, options: { deadline: number }, callback: (err: (Error & { code?: number; details?: string }) | null, user?: { id: number; name: string; email: string }) => void): void;
};

const STATUS_NAMES: Record<number, string> = { 0: 'OK', 1: 'CANCELLED', 2: 'UNKNOWN', 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 16: 'UNAUTHENTICATED' };

let definition: ReturnType<typeof loadPackageDefinition> | undefined;

/**
 * A grpc-js client of users.UserService on 127.0.0.1:`port`, checking the
 * server's certificate for `localhost`. `creds` default: `pem`'s (TLS with
 * our trust store, the key and chain when given).
 */
export function userServiceClient(port: number, pem: ClientPem | ChannelCredentials): UserServiceClient {
  definition ??= loadPackageDefinition(loadSync(USERS_PROTO));
  const UserService = (definition.users as unknown as { UserService: new (address: string, creds: ChannelCredentials, options: object) => UserServiceClient }).UserService;
  const creds = 'ca' in pem ? credentials.createSsl(Buffer.from(pem.ca), pem.key ? Buffer.from(pem.key) : null, pem.cert ? Buffer.from(pem.cert) : null) : pem;
  return new UserService(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
}

/** One GetUser call on `client` (10 s deadline). */
export function getUser(client: UserServiceClient, id: number): Promise<GetUserOutcome> {
  return new Promise((resolve) => {
    client.GetUser({ id }, { deadline: Date.now() + 10_000 }, (err, user) => {
      if (err) resolve({ code: STATUS_NAMES[err.code ?? 2] ?? String(err.code), details: err.details ?? err.message });
      else resolve({ user: user! });
    });
  });
}

/** One GetUser call over a fresh grpc-js client, closed afterwards. */
export async function getUserOnce(port: number, pem: ClientPem | ChannelCredentials, id = 1): Promise<GetUserOutcome> {
  const client = userServiceClient(port, pem);
  try {
    return await getUser(client, id);
  } finally {
    client.close();
  }
}

// Python's grpcio (C-core, its own TLS and HTTP/2: not grpc-js, not Node): the generic unary call with the two
// messages serialized by hand (GetUserRequest is one varint field; User is a varint and two strings), so no
// protoc or generated stubs are needed. Prints one JSON line: {"user": {...}} or {"code": ..., "details": ...}.
const PYTHON_CLIENT = `
import json, sys, grpc
port, ca, cert, key, user_id = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
read = lambda p: open(p, 'rb').read() if p else None
def varint(n):
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def read_varint(b, i):
    n = shift = 0
    while True:
        c = b[i]; i += 1
        n |= (c & 0x7f) << shift; shift += 7
        if not c & 0x80:
            return n, i
def user_of(b):
    user, i = {'id': 0, 'name': '', 'email': ''}, 0
    while i < len(b):
        tag, i = read_varint(b, i)
        field, kind = tag >> 3, tag & 7
        if kind == 0:
            value, i = read_varint(b, i)
        else:
            size, i = read_varint(b, i)
            value, i = b[i:i + size].decode(), i + size
        user[{1: 'id', 2: 'name', 3: 'email'}[field]] = value
    return user
creds = grpc.ssl_channel_credentials(root_certificates=read(ca), private_key=read(key), certificate_chain=read(cert))
channel = grpc.secure_channel('ipv4:127.0.0.1:' + port, creds, options=[('grpc.ssl_target_name_override', 'localhost')])
get_user = channel.unary_unary('/users.UserService/GetUser', request_serializer=lambda b: b, response_deserializer=lambda b: b)
try:
    print(json.dumps({'user': user_of(get_user(b'\\x08' + varint(user_id), timeout=10))}))
except grpc.RpcError as e:
    print(json.dumps({'code': e.code().name, 'details': e.details()}))
`;

let python: string | null | undefined;

/**
 * A python3 that imports grpc (Debian's python3-grpcio is for the system
 * python3, which another python3 on PATH may hide). When there is none:
 * under CI (`CI` set) this throws, so the suite fails (CI installs it:
 * .ci/run); elsewhere it warns and returns undefined (the caller skips).
 */
export function pythonWithGrpc(): string | undefined {
  if (python === undefined) {
    python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import grpc'], { stdio: 'ignore' }).status === 0) ?? null;
  }
  if (python) return python;
  if (process.env.CI) throw new Error("python3 with grpc (Debian's python3-grpcio) is not installed, and the independent gRPC client tests need it (CI must install it: see .ci/run)");
  console.warn("python3 with grpc (Debian's python3-grpcio) is not installed: skipping the Python gRPC client tests (under CI this fails)");
  return undefined;
}

/** One GetUser call from Python's grpcio, presenting the certificate in the files `cert` and `key` (none when omitted). */
export async function pythonGetUser(port: number, files: { ca: string; cert?: string; key?: string }, id = 1): Promise<GetUserOutcome> {
  const result = await run(pythonWithGrpc()!, ['-c', PYTHON_CLIENT, String(port), files.ca, files.cert ?? '', files.key ?? '', String(id)], { timeoutMs: 30_000 });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as GetUserOutcome;
  } catch {
    throw new Error(`the Python gRPC client printed no answer (exit ${result.code}): ${result.stdout}${result.stderr}`);
  }
}

/**
 * A gRPC client made of Node's http2 and tls only (no grpc-js): one session
 * over a TLS connection opened with `tls` (which may fix `localPort`,
 * `localAddress`, the destination `host`), on which {@link rawGetUser} makes
 * calls. For tests that need to decide the connection's addresses.
 */
export function rawGrpcSession(port: number, tls: ConnectionOptions & { host?: string; localAddress?: string; localPort?: number }): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://localhost:${port}`, {
      createConnection: () => tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['h2'], ...tls }),
    });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** GetUser { id } on a raw session: the user's fields, or the call's status (name and details). */
export function rawGetUser(session: ClientHttp2Session, id: number): Promise<GetUserOutcome> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/users.UserService/GetUser', 'content-type': 'application/grpc', te: 'trailers' });
    const message = Buffer.from([0x08, id]); // GetUserRequest { id } (id < 128)
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
    const chunks: Buffer[] = [];
    let status: { code: string; details: string } | undefined;
    const fromHeaders = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] === undefined) return;
      const code = Number(headers['grpc-status']);
      status = { code: STATUS_NAMES[code] ?? String(code), details: decodeURIComponent((headers['grpc-message'] as string | undefined) ?? '') };
    };
    stream.on('response', fromHeaders);
    stream.on('trailers', fromHeaders);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (status && status.code !== 'OK') return resolve(status);
      const body = Buffer.concat(chunks).subarray(5);
      // User { id = 1 (varint), name = 2 (string), email = 3 (string) }: short values only (one-byte varints and lengths).
      const user = { id: 0, name: '', email: '' };
      for (let i = 0; i < body.length; ) {
        const field = body[i] >> 3;
        if ((body[i] & 7) === 0) {
          user.id = body[i + 1];
          i += 2;
        } else {
          const text = body.subarray(i + 2, i + 2 + body[i + 1]).toString();
          if (field === 2) user.name = text;
          else user.email = text;
          i += 2 + body[i + 1];
        }
      }
      resolve({ user });
    });
  });
}
