'use strict';
/*
 * Minimal HTTP/1.1 response framing for the load generator: feeds on raw
 * socket chunks and reports each complete response's status code. Knows
 * Content-Length and chunked bodies (what Express and Node's http send); it
 * does not keep bodies. Far cheaper than Node's http client, so the
 * generator's own core is not the bottleneck.
 */

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const MAX_HEADER_BYTES = 64 * 1024;

class HttpResponseReader {
  constructor() {
    this.buffer = Buffer.alloc(0);
    /** null while waiting for a header; else { status, remaining } or { status, chunked: true } */
    this.current = null;
  }

  /** Adds a chunk; returns the status codes of the responses it completed (usually 0 or 1). */
  push(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const done = [];
    for (let guard = 0; guard < 10000; guard++) {
      if (this.current === null) {
        const end = this.buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffer.length > MAX_HEADER_BYTES) throw new Error('response header too large');
          break;
        }
        const head = this.buffer.toString('latin1', 0, end);
        this.buffer = this.buffer.subarray(end + 4);
        const status = Number(head.slice(9, 12));
        if (!head.startsWith('HTTP/1.') || !Number.isInteger(status)) throw new Error(`not an HTTP/1.x response: ${head.slice(0, 40)}`);
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        if (length) this.current = { status, remaining: Number(length[1]) };
        else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) this.current = { status, chunked: true };
        else if (status === 204 || status === 304) this.current = { status, remaining: 0 };
        else throw new Error(`response without Content-Length or chunked encoding (status ${status})`);
      }
      if (this.current.chunked) {
        const lineEnd = this.buffer.indexOf(CRLF);
        if (lineEnd < 0) break;
        const size = parseInt(this.buffer.toString('latin1', 0, lineEnd), 16);
        if (!Number.isInteger(size)) throw new Error('bad chunk size');
        if (size === 0) {
          // Last chunk: no trailers expected; it ends with an empty line.
          if (this.buffer.length < lineEnd + 4) break;
          this.buffer = this.buffer.subarray(lineEnd + 4);
          done.push(this.current.status);
          this.current = null;
          continue;
        }
        if (this.buffer.length < lineEnd + 2 + size + 2) break;
        this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
        continue;
      }
      if (this.buffer.length < this.current.remaining) {
        this.current.remaining -= this.buffer.length;
        this.buffer = Buffer.alloc(0);
        break;
      }
      this.buffer = this.buffer.subarray(this.current.remaining);
      done.push(this.current.status);
      this.current = null;
      if (this.buffer.length === 0) break;
    }
    return done;
  }
}

module.exports = { HttpResponseReader };
