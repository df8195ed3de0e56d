import type { TLSSocket } from 'node:tls';

/**
 * Sends one HTTP/1.1 request on an open TLS socket and resolves with the
 * status of the answer, or 'closed' when the server ends the connection
 * before answering (or `timeoutMs` passes without an answer: 'silent').
 */
export function requestOnSocket(socket: TLSSocket, path: string, timeoutMs = 5000): Promise<{ status: number; body: string } | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    let data = '';
    const done = (result: { status: number; body: string } | 'closed' | 'silent') => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      resolve(result);
    };
    const onClose = () => done('closed');
    const onData = (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const head = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(data);
      if (!head) return;
      const length = /content-length:\s*(\d+)/i.exec(head[2]);
      const body = data.slice(head[0].length);
      if (length && Buffer.byteLength(body, 'latin1') >= Number(length[1])) done({ status: Number(head[1]), body });
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    if (socket.listenerCount('error') === 0) socket.on('error', () => undefined);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}
