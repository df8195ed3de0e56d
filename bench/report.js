'use strict';
/*
 * Turns the rounds of the bench into the result table (console and markdown),
 * a diagnostics table (CPU per request, generator load, session reuse,
 * errors) and a short reading derived from the numbers.
 */
const { median, min, max, pairedRatios, relativeSpread, sum } = require('./stats');

const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const ratio = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');

function cell(values) {
  return `${int(median(values))} (${int(min(values))}–${int(max(values))})`;
}

function ratioCell(values) {
  return `${ratio(median(values))} (${ratio(min(values))}–${ratio(max(values))})`;
}

const ADAPTERS = [
  ['A', 'Express'],
  ['F', 'Fastify'],
];
const LABEL = {
  A: 'nest-mtls Express',
  F: 'nest-mtls Fastify',
  B: 'bare Node',
  T: 'Nest + Fastify without nest-mtls',
  X: 'Nest + Express without nest-mtls',
  N: 'nginx sidecar + Nest + Fastify (CPU: nginx + app)',
};

/**
 * nest-mtls against what a team would run instead: [ours, theirs, mode,
 * target]. A target on `cpu` compares server CPU per answer (theirs / ours:
 * the capacity ratio); on `rate`, throughput (ours / theirs, median of the
 * paired rounds).
 */
const ALTERNATIVES = [
  ['F', 'T', 'keepalive', { on: 'cpu', min: 0.9 }],
  ['A', 'X', 'keepalive', { on: 'cpu', min: 0.9 }],
  ['F', 'N', 'keepalive', { on: 'rate', min: 2 }],
  ['F', 'N', 'full', null],
  ['F', 'N', 'resumed', null],
  // The ceiling of terminating mTLS in process: the plain app (no nest-mtls) against the same sidecar.
  ['T', 'N', 'keepalive', null],
];

const MODE_WORDS = { keepalive: 'keep-alive GET /users/1 (16 connections)', full: 'full handshake + GET /users/1 (8 concurrent)', resumed: 'resumed handshake + GET /users/1 (8 concurrent)' };

/** The rows of ALTERNATIVES both sides of which ran. */
function alternatives(series) {
  const rows = [];
  for (const [ours, theirs, mode, target] of ALTERNATIVES) {
    const a = series[`${ours} ${mode} /users/1`];
    const b = series[`${theirs} ${mode} /users/1`];
    if (!a || !b) continue;
    const cpuA = median(a.map((r) => r.serverCpuUsPerOk));
    const cpuB = median(b.map((r) => r.serverCpuUsPerOk));
    const rates = pairedRatios(a.map((r) => r.rate), b.map((r) => r.rate));
    const rateRatio = median(rates);
    const capacity = cpuB / cpuA;
    const value = target ? (target.on === 'cpu' ? capacity : rateRatio) : null;
    rows.push({ ours, theirs, mode, target, a, b, cpuA, cpuB, rates, rateRatio, capacity, met: target ? value >= target.min : null });
  }
  return rows;
}

/** nest-mtls vs the plain Nest apps and the nginx sidecar: rates, server CPU per answer, ratios, targets. */
function alternativesTable(series) {
  const lines = [];
  lines.push('| alternative, vs in-process server | load | in-process requests/s | alternative requests/s | rate ratio (in-process / alternative) | in-process server CPU µs per answer | alternative server CPU µs per answer | CPU ratio (alternative / in-process) | target |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of alternatives(series)) {
    const target = r.target ? `${r.target.on === 'cpu' ? 'CPU ratio' : 'rate ratio'} ≥ ${r.target.min.toFixed(r.target.min >= 2 ? 0 : 2)} ${r.met ? '(met)' : '(NOT met)'}` : '—';
    lines.push(
      `| ${LABEL[r.theirs]}, vs ${LABEL[r.ours]} | ${MODE_WORDS[r.mode]} | ${cell(r.a.map((x) => x.rate))} | ${cell(r.b.map((x) => x.rate))} | ${ratioCell(r.rates)} | ` +
        `${int(r.cpuA)} | ${int(r.cpuB)} | ${ratio(r.capacity)} | ${target} |`,
    );
  }
  return lines.join('\n');
}

/**
 * `series[key]` is the list of per-round results of one run kind, e.g.
 * series['A keepalive /users/1'] (A: Express, F: Fastify, B: bare Node).
 * Comparisons pair round i of both sides.
 */
function comparisons(series) {
  const rate = (key) => series[key].map((r) => r.rate);
  const compare = (metric, a, b, target) => {
    const ratios = pairedRatios(rate(a), rate(b));
    const cost = (key) => median(series[key].map((r) => r.serverCpuUsPerOk));
    const capacity = cost(b) / cost(a);
    const r = median(ratios);
    return { metric, a: rate(a), b: rate(b), ratios, ratio: r, capacity, target, met: target === null ? null : r >= target };
  };
  const kinds = [
    ['keepalive', 'keep-alive requests/s, GET /users/1 (16 connections)', { A: null, F: null }],
    ['full', 'full handshakes/s (new connection + GET /users/1, 8 concurrent)', { A: 0.95, F: 0.95 }],
    ['resumed', 'resumed handshakes/s (TLS 1.3 ticket + GET /users/1, 8 concurrent)', { A: 0.95, F: 0.95 }],
  ];
  return {
    main: kinds.map(([kind, metric, targets]) => ({
      kind,
      metric,
      bare: rate(`B ${kind} /users/1`),
      bySide: Object.fromEntries(ADAPTERS.map(([side]) => [side, compare(metric, `${side} ${kind} /users/1`, `B ${kind} /users/1`, targets[side])])),
    })),
    reference: series['T keepalive /users/1']
      ? {
          ours: compare('keep-alive requests/s, GET /users/1: nest-mtls Fastify vs Nest + Fastify without nest-mtls', 'F keepalive /users/1', 'T keepalive /users/1', null),
          framework: compare('keep-alive requests/s, GET /users/1: Nest + Fastify without nest-mtls vs bare Node', 'T keepalive /users/1', 'B keepalive /users/1', null),
          routes: series['T keepalive /health']
            ? compare('keep-alive requests/s, Nest + Fastify without nest-mtls: /users/1 vs /health', 'T keepalive /users/1', 'T keepalive /health', null)
            : null,
        }
      : null,
    guard: Object.fromEntries(
      ADAPTERS.map(([side, name]) => [side, compare(`keep-alive requests/s, nest-mtls ${name}: guarded /users/1 vs /health`, `${side} keepalive /users/1`, `${side} keepalive /health`, 0.95)]),
    ),
  };
}

function targetText(c) {
  if (c.target === null) return '—';
  return `≥ ${c.target.toFixed(2)} ${c.met ? '(met)' : '(NOT met)'}`;
}

function markdownTables(series) {
  const { main, guard } = comparisons(series);
  const lines = [];
  lines.push('| metric | nest-mtls Express | nest-mtls Fastify | bare Node | Express / bare | Fastify / bare | target (Express; Fastify) | capacity ratio, server CPU (Express; Fastify) |');
  lines.push('|---|---:|---:|---:|---:|---:|---|---:|');
  for (const m of main) {
    const { A, F } = m.bySide;
    lines.push(
      `| ${m.metric} | ${cell(A.a)} | ${cell(F.a)} | ${cell(m.bare)} | ${ratioCell(A.ratios)} | ${ratioCell(F.ratios)} | ${targetText(A)}; ${targetText(F)} | ${ratio(A.capacity)}; ${ratio(F.capacity)} |`,
    );
  }
  const { reference } = comparisons(series);
  if (reference) {
    lines.push('');
    lines.push('| keep-alive requests/s, GET /users/1 (16 connections) | nest-mtls Fastify | Nest + Fastify without nest-mtls | bare Node | nest-mtls Fastify / reference | reference / bare | capacity ratios (same) |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    lines.push(
      `| the Fastify gap, split | ${cell(reference.ours.a)} | ${cell(reference.ours.b)} | ${cell(reference.framework.b)} | ${ratioCell(reference.ours.ratios)} | ${ratioCell(reference.framework.ratios)} | ${ratio(reference.ours.capacity)}; ${ratio(reference.framework.capacity)} |`,
    );
  }
  lines.push('');
  lines.push('| keep-alive requests/s (16 connections) | guarded /users/1 | /health | ratio (guarded / health) | target | capacity ratio (server CPU) |');
  lines.push('|---|---:|---:|---:|---|---:|');
  for (const [side, name] of ADAPTERS) {
    const g = guard[side];
    lines.push(`| nest-mtls ${name} | ${cell(g.a)} | ${cell(g.b)} | ${ratioCell(g.ratios)} | ${targetText(g)} | ${ratio(g.capacity)} |`);
  }
  if (reference && reference.routes) {
    const r = reference.routes;
    lines.push(`| Nest + Fastify without nest-mtls (only /users/1 guarded, by a hand-written check) | ${cell(r.a)} | ${cell(r.b)} | ${ratioCell(r.ratios)} | — | ${ratio(r.capacity)} |`);
  }
  return lines.join('\n');
}

function diagnosticsTable(series) {
  const lines = [];
  lines.push('| run | server | median rate/s | spread | server CPU (of 1 core) | server CPU µs per OK answer | generator CPU (of 1 core) | other processes\' CPU (cores) | sessions resumed | non-200 / errors |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const [key, runs] of Object.entries(series)) {
    const [side, mode, path] = key.split(' ');
    const server = LABEL[side];
    const conns = sum(runs.map((r) => r.connections));
    const resumed = mode === 'keepalive' ? '—' : `${pct(sum(runs.map((r) => r.reused)) / conns)} of ${int(conns)}`;
    const bad = {};
    for (const r of runs) {
      for (const [s, n] of Object.entries(r.statuses)) if (s !== '200') bad[s] = (bad[s] || 0) + n;
      for (const [e, n] of Object.entries(r.errors)) bad[e] = (bad[e] || 0) + n;
    }
    const badText = Object.keys(bad).length ? Object.entries(bad).map(([k, n]) => `${k}: ${n}`).join(', ') : 'none';
    lines.push(
      `| ${mode} ${path} | ${server} | ${int(median(runs.map((r) => r.rate)))} | ±${pct(relativeSpread(runs.map((r) => r.rate)) / 2)} | ` +
        `${pct(median(runs.map((r) => r.serverCpuShare)))} | ${int(median(runs.map((r) => r.serverCpuUsPerOk)))} | ` +
        `${pct(median(runs.map((r) => r.clientCpuShare)))} | ${ratio(median(runs.map((r) => r.otherCpuShare)))} | ${resumed} | ${badText} |`,
    );
  }
  return lines.join('\n');
}

/** Plain-text rendering of a markdown table for the console. */
function consoleTable(markdown) {
  const rows = markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[-:|]+\|$/.test(l.replace(/\s/g, '')))
    .map((l) => l.slice(1, -1).split('|').map((c) => c.trim()));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] || '').length)));
  return rows.map((r, n) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') + (n === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n');
}

/** The reading: numbers turned into sentences (what each server spends per request and per handshake). */
function reading(series, cryptoCost, identityCost, guardCost) {
  const { main, guard } = comparisons(series);
  const us = (key) => median(series[key].map((r) => r.serverCpuUsPerOk));
  const share = (key) => median(series[key].map((r) => r.serverCpuShare));
  const gen = (key) => median(series[key].map((r) => r.clientCpuShare));
  const out = [];

  const ka = { A: us('A keepalive /users/1'), F: us('F keepalive /users/1'), B: us('B keepalive /users/1') };
  const health = { A: us('A keepalive /health'), F: us('F keepalive /health') };
  const full = { A: us('A full /users/1'), F: us('F full /users/1'), B: us('B full /users/1') };
  const res = { A: us('A resumed /users/1'), F: us('F resumed /users/1'), B: us('B resumed /users/1') };
  const [kaMain] = main;

  out.push(
    `- **Per request (kept-alive connection)** the server spends about ${int(ka.A)} µs of CPU on GET /users/1 on Express, ${int(ka.F)} µs on Fastify ` +
      `and ${int(ka.B)} µs as bare Node (keep-alive ratios ${ratio(kaMain.bySide.A.ratio)} and ${ratio(kaMain.bySide.F.ratio)}). /health runs the same guard ` +
      `on the cached identity without the DN regex, pipe or parameter and costs ${int(health.A)} µs (Express) and ${int(health.F)} µs (Fastify): ` +
      `the gap to bare Node is the framework's request pipeline (routing, guard/pipe/interceptor machinery, the response), ` +
      `about ${int(ka.A - ka.B)} µs per request through Express and ${int(ka.F - ka.B)} µs through Fastify, not the route's policy.`,
  );
  const { reference } = comparisons(series);
  if (reference) {
    const t = us('T keepalive /users/1');
    out.push(
      `- **The Fastify gap, split.** Nest on the plain FastifyAdapter with a hand-written cached subject check (no nest-mtls) spends ` +
        `${int(t)} µs per kept-alive GET /users/1, ${ratio(reference.framework.ratio)} of bare Node's rate: Nest + Fastify's own ` +
        `${int(t - ka.B)} µs. user-service on MtlsFastifyAdapter spends ${int(ka.F)} µs (${ratio(reference.ours.ratio)} of that reference's rate): ` +
        `nest-mtls's part is about ${int(ka.F - t)} µs per request (ClientCertGuard, the identity lookup, the policy, @ClientCert, the ` +
        `first-request deadline's request hook, and user-service's own controller)` +
        (guardCost ? `; timed alone, in-process, the guard and @ClientCert take ${guardCost.guardUs.toFixed(2)} µs per request on a known caller.` : '.'),
    );
  }
  const conn = (perConn, perReq) => perConn - perReq;
  out.push(
    `- **Per new connection** (handshake + one request) the server spends about ${int(full.A)} / ${int(full.F)} / ${int(full.B)} µs of CPU ` +
      `(Express / Fastify / bare) for a full handshake, ${int(res.A)} / ${int(res.F)} / ${int(res.B)} µs for a resumed one. Taking off each server's ` +
      `per-request cost leaves the connection work: ${int(conn(full.A, ka.A))} / ${int(conn(full.F, ka.F))} / ${int(conn(full.B, ka.B))} µs (full) and ` +
      `${int(conn(res.A, ka.A))} / ${int(conn(res.F, ka.F))} / ${int(conn(res.B, ka.B))} µs (resumed): TCP accept and close, Node's TLS socket and ` +
      `HTTP parser, OpenSSL's handshake with certificate decoding, chain verification and session tickets, and for nest-mtls the per-connection ` +
      `hooks (refusal log, renegotiation guard, first-request deadline) and the caller's identity` +
      (identityCost
        ? ` (built once per certificate, about ${int(identityCost.identityUs)} µs; later connections find it by SHA-256 fingerprint, about ${(identityCost.cachedUs ?? 0).toFixed(1)} µs)`
        : '') +
      '.',
  );
  if (cryptoCost) {
    out.push(
      `- **Crypto is the smaller part of a handshake here.** Measured with node:crypto on this machine: ECDSA P-256 sign ${int(cryptoCost.signUs)} µs, ` +
        `verify ${int(cryptoCost.verifyUs)} µs, X25519 key pair + derive ${int(cryptoCost.x25519Us)} µs. The server's public-key work per full ` +
        `handshake (3 verifies: client CertificateVerify + 2 chain signatures; 1 sign; X25519) is about ${int(cryptoCost.fullHandshakeUs)} µs ` +
        `(${pct(cryptoCost.fullHandshakeUs / conn(full.B, ka.B))} of bare Node's connection work), per resumed handshake about ` +
        `${int(cryptoCost.resumedHandshakeUs)} µs (${pct(cryptoCost.resumedHandshakeUs / conn(res.B, ka.B))}). The rest is bookkeeping ` +
        `in OpenSSL 3.0, malloc, Node's socket/stream/HTTP setup and the kernel.`,
    );
  }
  for (const [side, name] of ADAPTERS) {
    out.push(
      `- **Guarded vs /health** on ${name}: ${int(us(`${side} keepalive /users/1`))} µs vs ${int(health[side])} µs per request (ratio ${ratio(guard[side].ratio)}); ` +
        `both routes run ClientCertGuard; /users/1 adds the DN-regex policy, a route parameter with ParseIntPipe, the @ClientCert parameter ` +
        `and the JSON user (its \`user 1 read by ...\` line is at debug level, off unless LOG_LEVEL=debug).`,
    );
  }
  if (reference && reference.routes) {
    out.push(
      `- **The same two routes without nest-mtls** (the reference: /users/1 behind a hand-written check, /health unguarded): ` +
        `${int(us('T keepalive /users/1'))} µs vs ${int(us('T keepalive /health'))} µs (ratio ${ratio(reference.routes.ratio)}). The difference ` +
        `between the routes is mostly Nest's work for a route parameter with a pipe, not the guard` +
        (guardCost ? ` (ClientCertGuard and @ClientCert: ${guardCost.guardUs.toFixed(2)} µs per request, timed alone).` : '.'),
    );
  }
  const targets = [...main.flatMap((m) => ADAPTERS.map(([side, name]) => [name, m.bySide[side]])), ...ADAPTERS.map(([side, name]) => [name, guard[side]])];
  for (const [name, c] of targets) {
    if (c.target === null) continue;
    out.push(
      `- Target ${name}, ${c.metric}: ratio ${ratio(c.ratio)} vs ≥ ${c.target.toFixed(2)}: **${c.met ? 'met' : 'not met'}** ` +
        `(by server CPU per answer: ${ratio(c.capacity)}, ${c.capacity >= c.target ? 'met' : 'not met'}).`,
    );
  }
  const others = median(Object.values(series).flat().map((r) => r.otherCpuShare));
  if (others > 0.1) {
    out.push(
      `- **Noise:** other processes on this machine used a median ${ratio(others)} cores during the measured windows (of 2). ` +
        `They compete with the pinned server and generator, so rates and spreads suffer; the per-answer CPU costs (and the capacity ` +
        `ratios built from them) are the steadier numbers. Re-run on a quiet machine for cleaner rates.`,
    );
  }
  const named = (k) => `${LABEL[k[0]]} ${k.slice(2)}`;
  const saturated = Object.keys(series).filter((k) => share(k) < 0.85);
  const genBusy = Object.keys(series).filter((k) => gen(k) > 0.9);
  if (saturated.length) out.push(`- Server CPU below 85% of a core in: ${saturated.map(named).join(', ')}: the generator or round trips, not the server alone, bound those rates.`);
  else out.push('- The server under test was at ≥ 85% of its core in every run.');
  if (genBusy.length) {
    out.push(
      `- The generator was above 90% of its core in: ${genBusy.map(named).join(', ')}. A TLS client pays about what the server pays per handshake, ` +
        `so on 2 cores the handshake rates are bounded by the generator as much as by the server and their ratio is pulled towards 1; ` +
        `the capacity ratio (server CPU per answer, bare / nest-mtls) does not depend on the generator and is the better estimate there.`,
    );
  }
  return out.join('\n');
}

module.exports = { markdownTables, diagnosticsTable, alternativesTable, alternatives, consoleTable, reading, comparisons };
