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

/**
 * `series[key]` is the list of per-round results of one run kind, e.g.
 * series['A keepalive /users/1']. Comparisons pair round i of both sides.
 */
function comparisons(series) {
  const rate = (key) => series[key].map((r) => r.rate);
  const compare = (metric, a, b, target, labels) => {
    const ratios = pairedRatios(rate(a), rate(b));
    const cost = (key) => median(series[key].map((r) => r.serverCpuUsPerOk));
    const capacity = cost(b) / cost(a);
    const r = median(ratios);
    return {
      metric,
      a: rate(a),
      b: rate(b),
      ratios,
      ratio: r,
      capacity,
      target,
      met: target === null ? null : r >= target,
      labels,
    };
  };
  return {
    main: [
      compare('keep-alive requests/s, GET /users/1 (16 connections)', 'A keepalive /users/1', 'B keepalive /users/1', null),
      compare('full handshakes/s (new connection + GET /users/1, 8 concurrent)', 'A full /users/1', 'B full /users/1', 0.9),
      compare('resumed handshakes/s (TLS 1.3 ticket + GET /users/1, 8 concurrent)', 'A resumed /users/1', 'B resumed /users/1', 0.9),
    ],
    guard: compare('keep-alive requests/s, nest-mtls: guarded /users/1 vs /health', 'A keepalive /users/1', 'A keepalive /health', 0.95),
  };
}

function targetText(c) {
  if (c.target === null) return '—';
  return `≥ ${c.target.toFixed(2)} ${c.met ? '(met)' : '(NOT met)'}`;
}

function markdownTables(series) {
  const { main, guard } = comparisons(series);
  const lines = [];
  lines.push('| metric | nest-mtls | bare Node | ratio (nest-mtls / bare) | target | capacity ratio (server CPU) |');
  lines.push('|---|---:|---:|---:|---|---:|');
  for (const c of main) lines.push(`| ${c.metric} | ${cell(c.a)} | ${cell(c.b)} | ${ratioCell(c.ratios)} | ${targetText(c)} | ${ratio(c.capacity)} |`);
  lines.push('');
  lines.push('| metric (nest-mtls only) | guarded /users/1 | /health | ratio (guarded / health) | target | capacity ratio (server CPU) |');
  lines.push('|---|---:|---:|---:|---|---:|');
  lines.push(`| keep-alive requests/s (16 connections) | ${cell(guard.a)} | ${cell(guard.b)} | ${ratioCell(guard.ratios)} | ${targetText(guard)} | ${ratio(guard.capacity)} |`);
  return lines.join('\n');
}

function diagnosticsTable(series) {
  const lines = [];
  lines.push('| run | server | median rate/s | spread | server CPU (of 1 core) | server CPU µs per OK answer | generator CPU (of 1 core) | other processes\' CPU (cores) | sessions resumed | non-200 / errors |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const [key, runs] of Object.entries(series)) {
    const [side, mode, path] = key.split(' ');
    const server = side === 'A' ? 'nest-mtls' : 'bare Node';
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

/** The reading: numbers turned into sentences (what the server spends per request and per handshake). */
function reading(series, cryptoCost, identityCost) {
  const { main, guard } = comparisons(series);
  const us = (key) => median(series[key].map((r) => r.serverCpuUsPerOk));
  const share = (key) => median(series[key].map((r) => r.serverCpuShare));
  const gen = (key) => median(series[key].map((r) => r.clientCpuShare));
  const out = [];

  const kaA = us('A keepalive /users/1');
  const kaB = us('B keepalive /users/1');
  const healthA = us('A keepalive /health');
  const fullA = us('A full /users/1');
  const fullB = us('B full /users/1');
  const resA = us('A resumed /users/1');
  const resB = us('B resumed /users/1');

  out.push(
    `- **Per request (kept-alive connection)** the nest-mtls server spends about ${int(kaA)} µs of CPU on GET /users/1, bare Node about ${int(kaB)} µs: ` +
      `roughly ${int(kaA - kaB)} µs more per request (keep-alive ratio ${ratio(main[0].ratio)}). /health, which runs the same guard on the ` +
      `cached identity but no DN regex, pipe or log line, costs ${int(healthA)} µs` +
      (kaA - healthA < 0.3 * (kaA - kaB)
        ? `, so most of the difference is the Nest + Express request pipeline (routing, body-parser checks, guard/pipe machinery, ` +
          `res.json with ETag), not the route's policy.`
        : `.`) +
      ` TLS record crypto for a ~100-byte answer is small in both.`,
  );
  const connA = fullA - kaA;
  const connB = fullB - kaB;
  const resConnA = resA - kaA;
  const resConnB = resB - kaB;
  out.push(
    `- **Per new connection** the server spends about ${int(fullA)} µs (nest-mtls) vs ${int(fullB)} µs (bare) of CPU for a full handshake plus one request, ` +
      `and ${int(resA)} µs vs ${int(resB)} µs for a resumed one. Taking off each server's per-request cost leaves the connection work: ` +
      `${int(connB)} µs (full) and ${int(resConnB)} µs (resumed) for bare Node (TCP accept and close, Node's TLS socket and HTTP parser, ` +
      `OpenSSL's handshake with certificate decoding, chain verification and session tickets), ${int(connA)} µs and ${int(resConnA)} µs for nest-mtls.`,
  );
  const extraFull = connA - connB;
  const extraResumed = resConnA - resConnB;
  if (extraFull > 0.1 * connB || extraResumed > 0.1 * resConnB) {
    let why = '';
    if (identityCost) {
      why =
        ` It is not the caller's identity: the guard builds it once per certificate (about ${int(identityCost.identityUs)} µs, the first ` +
        `connection of a caller) and every later connection finds it by SHA-256 fingerprint (about ${(identityCost.cachedUs ?? 0).toFixed(1)} µs, ` +
        `plus reading the peer certificate's fingerprint from the socket). What remains is outside the identity; a CPU profile shows no single hotspot, and the likeliest ` +
        `cause is Nest and Express meeting each new socket's first request with cold caches, which the keep-alive figure does not show.`;
    }
    out.push(
      `- **nest-mtls spends about ${int(extraFull)} µs more per full handshake and ${int(extraResumed)} µs more per resumed one** than bare Node, ` +
        `on top of its per-request overhead.${why} For a 0.90 ratio, nest-mtls may spend at most ${int(fullB / 0.9 - fullB)} µs more than bare ` +
        `per full handshake + request and ${int(resB / 0.9 - resB)} µs per resumed one; it spends ${int(fullA - fullB)} and ${int(resA - resB)}.`,
    );
  } else {
    out.push(
      `- The connection work is about the same in both servers (the same Node/OpenSSL handshake); it dwarfs the framework's per-request ` +
        `overhead, which is why the handshake ratios (${ratio(main[1].ratio)} full, ${ratio(main[2].ratio)} resumed) are closer to 1 ` +
        `than the keep-alive ratio (${ratio(main[0].ratio)}).`,
    );
  }
  if (cryptoCost) {
    out.push(
      `- **Crypto is the smaller part of a handshake here.** Measured with node:crypto on this machine: ECDSA P-256 sign ${int(cryptoCost.signUs)} µs, ` +
        `verify ${int(cryptoCost.verifyUs)} µs, X25519 key pair + derive ${int(cryptoCost.x25519Us)} µs. The server's public-key work per full ` +
        `handshake (3 verifies: client CertificateVerify + 2 chain signatures; 1 sign; X25519) is about ${int(cryptoCost.fullHandshakeUs)} µs ` +
        `(${pct(cryptoCost.fullHandshakeUs / connB)} of bare Node's connection work), per resumed handshake about ` +
        `${int(cryptoCost.resumedHandshakeUs)} µs (${pct(cryptoCost.resumedHandshakeUs / resConnB)}). The rest of bare Node's connection work is bookkeeping ` +
        `in OpenSSL 3.0, malloc, Node's socket/stream/HTTP setup and the kernel.`,
    );
  }
  const gDiff = kaA - healthA;
  out.push(
    `- **Guarded vs /health** on nest-mtls: ${int(kaA)} µs vs ${int(healthA)} µs per request (ratio ${ratio(guard.ratio)}). Both routes run the guard and ` +
      `read the cached identity; /users/1 adds the DN-regex policy, ParseIntPipe, the @ClientCert parameter and the JSON user ` +
      `(its \`user 1 read by ...\` line is at debug level, off unless LOG_LEVEL=debug), about ${int(gDiff)} µs in all.`,
  );
  for (const c of [...main, guard]) {
    if (c.target === null) continue;
    out.push(
      `- Target ${c.metric}: ratio ${ratio(c.ratio)} vs ≥ ${c.target.toFixed(2)}: **${c.met ? 'met' : 'not met'}** ` +
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
  const saturated = Object.keys(series).filter((k) => share(k) < 0.85);
  const genBusy = Object.keys(series).filter((k) => gen(k) > 0.9);
  if (saturated.length) out.push(`- Server CPU below 85% of a core in: ${saturated.join(', ')}: the generator or round trips, not the server alone, bound those rates.`);
  else out.push('- The server under test was at ≥ 85% of its core in every run.');
  if (genBusy.length) {
    out.push(
      `- The generator was above 90% of its core in: ${genBusy.join(', ')}. A TLS client pays about what the server pays per handshake, ` +
        `so on 2 cores the handshake rates are bounded by the generator as much as by the server and their ratio is pulled towards 1; ` +
        `the capacity ratio (server CPU per answer, bare / nest-mtls) does not depend on the generator and is the better estimate there.`,
    );
  }
  return out.join('\n');
}

module.exports = { markdownTables, diagnosticsTable, consoleTable, reading, comparisons };
