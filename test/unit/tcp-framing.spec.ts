import { JsonSocket } from '@nestjs/microservices';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { MtlsConfigError, type MtlsServing } from 'nest-mtls';
import { MtlsTcpServer } from 'nest-mtls/microservices';
import { declaredPatternOf, UNDECLARED_PATTERN } from 'nest-mtls/internal';
import { BoundedJsonSocket, type BoundedJsonSocketLimits } from 'nest-mtls/internal';
import { resolveTcpLimits } from 'nest-mtls/internal';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `<length>#<json>` as Nest's clients write it (the length in UTF-16 code units). */
const frame = (value: unknown) => {
  const json = JSON.stringify(value);
  return `${json.length}#${json}`;
};

/**
 * A loopback TCP server whose connections are framed by BoundedJsonSocket:
 * the messages it read and the refusals it made, per connection.
 */
async function framingServer(limits: Partial<BoundedJsonSocketLimits> = {}) {
  const messages: unknown[] = [];
  const refusals: string[] = [];
  const sockets: BoundedJsonSocket[] = [];
  const server: Server = createServer((raw: Socket) => {
    const framed = new BoundedJsonSocket(raw, {
      maxMessageBytes: 1024,
      incompleteMessageTimeoutMs: 0,
      maxSendBufferBytes: 0,
      refuse: (reason, detail) => refusals.push(`${reason}: ${detail}`),
      ...limits,
    });
    framed.on('message', (m: unknown) => messages.push(m));
    raw.on('error', () => undefined);
    sockets.push(framed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const open = async () => {
    const client = connect({ host: '127.0.0.1', port });
    client.on('error', () => undefined);
    await new Promise((resolve) => client.once('connect', resolve));
    while (sockets.length === 0 || sockets.at(-1)!.netSocket.remotePort !== client.localPort) await sleep(5);
    return { client, server: sockets.at(-1)! };
  };
  const closed = (client: Socket) => new Promise<void>((resolve) => (client.destroyed ? resolve() : client.once('close', () => resolve())));
  return { messages, refusals, open, closed, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('BoundedJsonSocket (Nest\'s <length>#<json> framing with limits, over loopback TCP)', () => {
  it('reads the same messages whatever the chunk boundaries, multi-byte characters included', async () => {
    const s = await framingServer();
    const payload = Buffer.from(frame({ pattern: 'é😀', id: 1 }) + frame({ data: 'ünïcödé ✓', n: 2 }));
    try {
      for (let cut = 1; cut < payload.length; cut++) {
        const { client, server } = await s.open();
        // Two 'data' events on the server's own socket, split at every byte (TCP may merge writes; this does not).
        server.netSocket.emit('data', payload.subarray(0, cut));
        server.netSocket.emit('data', payload.subarray(cut));
        client.destroy();
      }
      expect(s.refusals).toEqual([]);
      expect(s.messages).toHaveLength(2 * (payload.length - 1));
      for (let i = 0; i < s.messages.length; i += 2) {
        expect(s.messages[i]).toEqual({ pattern: 'é😀', id: 1 });
        expect(s.messages[i + 1]).toEqual({ data: 'ünïcödé ✓', n: 2 });
      }
    } finally {
      await s.close();
    }
  });

  it('reads 1,000 pipelined messages of one write in order', async () => {
    const s = await framingServer();
    try {
      const { client } = await s.open();
      client.write(Array.from({ length: 1000 }, (_, i) => frame({ i })).join(''));
      while (s.messages.length < 1000) await sleep(10);
      expect(s.messages).toEqual(Array.from({ length: 1000 }, (_, i) => ({ i })));
      client.destroy();
    } finally {
      await s.close();
    }
  });

  it.each([
    ['a length prefix announcing more than maxMessageBytes', '1025#', 'protocol: length prefix announces at least 1025 characters; maxMessageBytes is 1024'],
    ['15 KB of digits without "#"', '9'.repeat(15000), 'protocol: length prefix announces at least 9999 characters; maxMessageBytes is 1024'],
    ['a length prefix that is not a number', 'GET / HTTP/1.1\r\n', 'protocol: length prefix is not a number ("G")'],
    ['"#" without a length', '#{}', 'protocol: length prefix is not a number ("#")'],
    ['a length of 0', '0#', 'protocol: a message that is not JSON (0 characters)'],
    ['a message that is not JSON', '5#{"a":', 'protocol: a message that is not JSON (5 characters)'],
    ['more bytes than maxMessageBytes in fewer characters', `${frame('é'.repeat(600))}`, 'protocol: a message of more than maxMessageBytes (1024) bytes'],
  ])('%s: the connection is closed, saying why', async (_what, data, refusal) => {
    const s = await framingServer();
    try {
      const { client } = await s.open();
      client.write(data);
      await s.closed(client);
      expect(s.refusals).toEqual([refusal]);
      expect(s.messages).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('a message of exactly maxMessageBytes is read; the framing goes on after it', async () => {
    const s = await framingServer();
    try {
      const { client } = await s.open();
      const big = 'x'.repeat(1024 - 2);
      client.write(frame(big) + frame({ after: true }));
      while (s.messages.length < 2) await sleep(10);
      expect(s.messages).toEqual([big, { after: true }]);
      expect(s.refusals).toEqual([]);
      client.destroy();
    } finally {
      await s.close();
    }
  });

  it('a peer silent in the middle of a message is cut after incompleteMessageTimeoutMs', async () => {
    const s = await framingServer({ incompleteMessageTimeoutMs: 200 });
    try {
      const { client } = await s.open();
      const started = Date.now();
      client.write('10#{"a"');
      await s.closed(client);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(s.refusals).toEqual(['timeout: incomplete message: nothing more for 200 ms']);
    } finally {
      await s.close();
    }
  });

  it('a peer that does not read its answers: reading pauses until it does; past maxSendBufferBytes it is cut', async () => {
    const answer = 'y'.repeat(512 * 1024);
    const s = await framingServer({ maxSendBufferBytes: 0 });
    try {
      const { client, server } = await s.open();
      s.messages.length = 0;
      server.on('message', () => server.sendMessage({ answer }));
      client.pause(); // reads nothing
      client.write(Array.from({ length: 64 }, (_, i) => frame({ i })).join(''));
      await sleep(500);
      const whilePaused = s.messages.length;
      expect(whilePaused).toBeGreaterThan(0);
      expect(whilePaused).toBeLessThan(64); // 32 MiB of answers do not all fit in the socket buffers: reading stopped
      client.resume();
      const deadline = Date.now() + 10000;
      while (s.messages.length < 64 && Date.now() < deadline) await sleep(20);
      expect(s.messages).toHaveLength(64);
      client.destroy();
    } finally {
      await s.close();
    }
    const capped = await framingServer({ maxSendBufferBytes: 1024 * 1024 });
    try {
      const { client, server } = await capped.open();
      // As Nest answers: after the handler ran, so every message of a chunk is taken before the first answer is written.
      server.on('message', () => setImmediate(() => server.sendMessage({ answer })));
      client.pause();
      client.write(Array.from({ length: 64 }, (_, i) => frame({ i })).join(''));
      const deadline = Date.now() + 10000;
      while (capped.refusals.length === 0 && Date.now() < deadline) await sleep(20);
      client.destroy();
      expect(capped.refusals).toEqual(['protocol: more than 1048576 bytes of answers queued for a peer that does not read them']);
    } finally {
      await capped.close();
    }
  });

  it('answers are framed as Nest frames them: Nest\'s own JsonSocket reads them', async () => {
    const s = await framingServer();
    try {
      const { client, server } = await s.open();
      const reader = new JsonSocket(client);
      const got: unknown[] = [];
      reader.on('message', (m: unknown) => got.push(m));
      server.sendMessage({ id: '1', response: { name: 'Zoë 😀' }, isDisposed: true });
      while (got.length < 1) await sleep(10);
      expect(got).toEqual([{ id: '1', response: { name: 'Zoë 😀' }, isDisposed: true }]);
      client.destroy();
    } finally {
      await s.close();
    }
  });
});

describe('MtlsTcpServer options', () => {
  const make = (options: object) => () => new MtlsTcpServer(undefined as unknown as MtlsServing, options);

  it('defaults: 1 MiB messages, idle connections closed after 5 minutes, Nest\'s other framing defaults', () => {
    expect(resolveTcpLimits({})).toEqual({ maxMessageBytes: 1048576, idleTimeoutMs: 300000, incompleteMessageTimeoutMs: 30000, maxSendBufferBytes: 134217728 });
    expect(resolveTcpLimits({ maxMessageBytes: 4096, idleTimeoutMs: 0, port: 1, host: 'x' })).toMatchObject({ maxMessageBytes: 4096, idleTimeoutMs: 0 });
  });

  it.each([
    ['a misspelt maxMessageBytes', { maxMesageBytes: 10 }, 'MtlsTcpServer.maxMesageBytes: is not an option of the TCP transport; did you mean "maxMessageBytes"?'],
    ['a misspelt idleTimeoutMs', { idleTimeout: 10 }, 'MtlsTcpServer.idleTimeout: is not an option of the TCP transport; did you mean "idleTimeoutMs"?'],
    ['socketClass', { socketClass: JsonSocket }, 'MtlsTcpServer.socketClass: is not supported: MtlsTcpServer frames messages itself'],
    ['maxBufferSize', { maxBufferSize: 10 }, 'MtlsTcpServer.maxBufferSize: is not supported: use maxMessageBytes'],
    ['maxMessageBytes 0', { maxMessageBytes: 0 }, 'MtlsTcpServer.maxMessageBytes: must be a whole number of bytes from 1 to 134217728, got 0'],
    ['maxMessageBytes "1mb"', { maxMessageBytes: '1mb' }, 'MtlsTcpServer.maxMessageBytes: must be a whole number of bytes from 1 to 134217728, got "1mb"'],
    ['idleTimeoutMs -1', { idleTimeoutMs: -1 }, 'MtlsTcpServer.idleTimeoutMs: must be a whole number from 0 to 2147483647 (0: off), got -1'],
    ['incompleteMessageTimeout 1.5', { incompleteMessageTimeout: 1.5 }, 'MtlsTcpServer.incompleteMessageTimeout: must be a whole number'],
    ['tlsOptions', { tlsOptions: {} }, 'MtlsTcpServer: do not pass tlsOptions; MtlsModule supplies them'],
  ])('%s is refused when the transport is made, naming the option', (_what, options, message) => {
    expect(make(options)).toThrow(MtlsConfigError);
    expect(make(options)).toThrow(message);
  });
});

describe('declaredPatternOf (the label of RPC metrics and log lines)', () => {
  const handler = (patterns: unknown[] | undefined) => {
    const fn = () => undefined;
    if (patterns) Reflect.defineMetadata('microservices:pattern', patterns, fn);
    return fn;
  };

  it('one declared pattern: its label, whatever the peer sent (the message is not read)', () => {
    const h = handler([{ cmd: 'get_user' }]);
    const getPattern = jest.fn(() => '{ "cmd" :    "get_user" }');
    expect(declaredPatternOf(h, { getPattern })).toBe('{"cmd":"get_user"}');
    expect(getPattern).not.toHaveBeenCalled();
  });

  it('several: the one the sent pattern spells, by canonical form; none of them: one bucket', () => {
    const h = handler([{ cmd: 'get_user', v: 1 }, 'users.list']);
    expect(declaredPatternOf(h, { getPattern: () => '{  "v":1, "cmd":"get_user" }' })).toBe('{"cmd":"get_user","v":1}');
    expect(declaredPatternOf(h, { getPattern: () => 'users.list' })).toBe('users.list');
    expect(declaredPatternOf(h, { getPattern: () => '{"cmd":"other"}' })).toBe(UNDECLARED_PATTERN);
    expect(declaredPatternOf(h, { getPattern: () => 'not json {' })).toBe(UNDECLARED_PATTERN);
  });

  it('no declared pattern: undefined (the caller falls back to the handler\'s name)', () => {
    expect(declaredPatternOf(handler(undefined), { getPattern: () => 'x' })).toBeUndefined();
  });
});
