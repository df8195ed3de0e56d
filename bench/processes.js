'use strict';
/*
 * Child processes of the bench: started (optionally pinned to one CPU with
 * taskset), awaited until they print a ready line, measured (CPU time from
 * /proc), and always killed: on normal exit, on errors and on signals.
 */
const { spawn, execFileSync } = require('node:child_process');
const { openSync, closeSync, readFileSync, existsSync } = require('node:fs');
const { freePort } = require('../scripts/free-port');
const os = require('node:os');

const children = new Set();
const CLOCK_TICKS_PER_SECOND = clockTicks();

function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

let tasksetPath;
/** `taskset` when it exists, pinning is not disabled (BENCH_PIN=0) and there are at least 2 CPUs. */
function taskset() {
  if (tasksetPath !== undefined) return tasksetPath;
  tasksetPath = null;
  if (process.env.BENCH_PIN === '0' || os.cpus().length < 2 || process.platform !== 'linux') return tasksetPath;
  for (const candidate of ['/usr/bin/taskset', '/bin/taskset']) if (existsSync(candidate)) tasksetPath = candidate;
  return tasksetPath;
}

/** Command and args to run `node [nodeArgs] script args` (pinned to `cpu` when possible). */
function nodeCommand(script, args, cpu, nodeArgs = []) {
  const pin = taskset();
  if (pin && cpu !== undefined) return { command: pin, args: ['-c', String(cpu), process.execPath, ...nodeArgs, script, ...args], pinned: cpu };
  return { command: process.execPath, args: [...nodeArgs, script, ...args], pinned: null };
}

/**
 * Starts a server: stdout+stderr go to `logFile` (so the parent reads nothing
 * per request), stdin is a pipe whose EOF tells a cooperating child that the
 * bench is gone.
 */
function startServer({ name, script, env, cwd, logFile, cpu, nodeArgs }) {
  const out = openSync(logFile, 'a');
  const { command, args, pinned } = nodeCommand(script, [], cpu, nodeArgs);
  const child = spawn(command, args, { cwd, env, stdio: ['pipe', out, out] });
  closeSync(out);
  child.benchName = name;
  child.logFile = logFile;
  child.pinned = pinned;
  track(child);
  return child;
}

/** Starts the load generator with an IPC channel. */
function startGenerator({ script, cwd, cpu }) {
  const { command, args, pinned } = nodeCommand(script, [], cpu);
  const child = spawn(command, args, { cwd, env: process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.benchName = 'load generator';
  child.pinned = pinned;
  track(child);
  return child;
}

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', () => children.delete(child));
}

function logOf(child) {
  try {
    return readFileSync(child.logFile, 'utf8');
  } catch {
    return '';
  }
}

function tail(text, lines = 20) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Resolves when the child's log holds `pattern`; rejects when it exits first or after `timeoutMs`. */
function waitForReady(child, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const log = logOf(child);
      if (pattern.test(log)) return resolve();
      if (child.exitCode !== null || child.signalCode !== null) {
        return reject(new Error(`${child.benchName} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(log)}`));
      }
      if (Date.now() > deadline) return reject(new Error(`${child.benchName} not ready within ${timeoutMs} ms:\n${tail(log)}`));
      setTimeout(poll, 100);
    };
    poll();
  });
}

/** User+system CPU time of a process in ms (Linux /proc), or null. */
function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU time in ms of one process, or the sum over several (a pid, a list, or a function giving the list now, e.g. nginx's master and workers); null if any is unreadable. */
function cpuTimeOfMs(pids) {
  const list = typeof pids === 'function' ? pids() : Array.isArray(pids) ? pids : [pids];
  let total = 0;
  for (const pid of list) {
    const ms = cpuTimeMs(pid);
    if (ms === null) return null;
    total += ms;
  }
  return total;
}

/** Busy CPU time of the whole machine in ms (all CPUs, /proc/stat: everything but idle and iowait), or null. */
function machineBusyMs() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0);
    return (busy * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** SIGTERM to one child, SIGKILL after `graceMs`. Resolves when it is gone. */
function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {}
      resolve();
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (child.stdin) child.stdin.end();
      child.kill('SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/** SIGTERM to every child still running, SIGKILL after `graceMs`. Resolves when all are gone. */
function killAll(graceMs = 3000) {
  return Promise.all([...children].map((child) => stop(child, graceMs)));
}

/** Last resort on process exit: synchronous SIGKILL of anything left. */
function killAllNow() {
  for (const child of children) {
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    } catch {}
  }
}

module.exports = { startServer, startGenerator, track, waitForReady, cpuTimeMs, cpuTimeOfMs, machineBusyMs, freePort, stop, killAll, killAllNow, logOf, tail, taskset };
