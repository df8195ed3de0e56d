'use strict';
/*
 * The parent's side of the load generator's IPC: one run at a time; samples
 * the server's CPU time at the start and end marks of the measured window so
 * each result also says how busy the server was and what a request cost it.
 */
const { cpuTimeMs, cpuTimeOfMs, machineBusyMs } = require('./processes');

class GeneratorClient {
  constructor(child) {
    this.child = child;
    this.nextId = 1;
    this.pending = null;
    this.readyWaiter = null;
    child.on('message', (msg) => this.onMessage(msg));
    child.on('exit', (code, signal) => {
      const err = new Error(`load generator exited (${code ?? signal})`);
      if (this.pending) this.pending.reject(err);
      if (this.readyWaiter) this.readyWaiter.reject(err);
      this.pending = null;
      this.readyWaiter = null;
    });
  }

  /** Sends the client's TLS material (file paths) and waits for the generator to load it. */
  init(material, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('load generator did not start')), timeoutMs);
      this.readyWaiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.child.send({ type: 'init', ...material });
    });
  }

  /**
   * One measured run against `port`; `serverPid` is the process whose CPU time is sampled (or a list of them, or a function giving the list: summed).
   * `onStart` is called when the measured window opens; `bucketMs` asks for 200 answers per slice.
   */
  run({ mode, port, path, seconds, concurrency, serverPid, bucketMs, onStart }) {
    if (this.pending) return Promise.reject(new Error('a run is already in progress'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new Error(`run ${mode} ${path} on ${port} did not finish`));
      }, (seconds + 60) * 1000);
      this.pending = {
        id,
        serverPid,
        onStart,
        cpuStart: null,
        cpuEnd: null,
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.child.send({ type: 'run', id, mode, port, path, seconds, concurrency, bucketMs });
    });
  }

  onMessage(msg) {
    if (msg.type === 'ready' && this.readyWaiter) {
      this.readyWaiter.resolve();
      this.readyWaiter = null;
      return;
    }
    const p = this.pending;
    if (!p || msg.id !== p.id) return;
    if (msg.type === 'mark') {
      const sample = {
        server: cpuTimeOfMs(p.serverPid),
        generator: cpuTimeMs(this.child.pid),
        machine: machineBusyMs(),
        self: process.cpuUsage(),
        at: Date.now(),
      };
      if (msg.phase === 'start') {
        p.cpuStart = sample;
        if (p.onStart) p.onStart();
      } else p.cpuEnd = sample;
    } else if (msg.type === 'result') {
      this.pending = null;
      const r = msg.result;
      const a = p.cpuStart;
      const b = p.cpuEnd;
      const delta = (k) => (a && b && a[k] !== null && b[k] !== null ? b[k] - a[k] : null);
      const serverCpuMs = delta('server');
      // Everything else that ran on the machine during the window (other processes: noise).
      const self = a && b ? (b.self.user + b.self.system - a.self.user - a.self.system) / 1000 : 0;
      const others = delta('machine') === null || serverCpuMs === null || delta('generator') === null ? null : delta('machine') - serverCpuMs - delta('generator') - self;
      r.otherCpuShare = others === null ? null : Math.max(0, others) / r.elapsedMs;
      r.serverCpuShare = serverCpuMs === null ? null : serverCpuMs / r.elapsedMs;
      r.serverCpuUsPerOk = serverCpuMs === null || r.ok === 0 ? null : (serverCpuMs * 1000) / r.ok;
      p.resolve(r);
    } else if (msg.type === 'failed') {
      this.pending = null;
      p.reject(new Error(msg.error));
    }
  }

  stop() {
    if (this.child.connected) this.child.send({ type: 'exit' });
  }
}

module.exports = { GeneratorClient };
