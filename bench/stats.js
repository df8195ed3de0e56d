'use strict';
/* Small statistics over the rounds of the bench, and a micro-timer. */
const { performance } = require('node:perf_hooks');

/** Average µs per call of `fn`, run for about `ms` (after a warm-up, bounded in calls). */
function perOpUs(fn, ms, warmup = 50) {
  for (let i = 0; i < warmup; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms && n < 1_000_000) {
    fn();
    n++;
  }
  return ((performance.now() - start) * 1000) / n;
}

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function min(values) {
  return Math.min(...values.filter(Number.isFinite));
}

function max(values) {
  return Math.max(...values.filter(Number.isFinite));
}

/** (max - min) / median, as a fraction. */
function relativeSpread(values) {
  const m = median(values);
  return m > 0 ? (max(values) - min(values)) / m : NaN;
}

/** Per-round ratios a[i] / b[i] (rounds are run back to back, so pairs share the machine's state). */
function pairedRatios(a, b) {
  return a.map((x, i) => (b[i] > 0 ? x / b[i] : NaN));
}

function sum(values) {
  return values.reduce((s, x) => s + x, 0);
}

module.exports = { perOpUs, median, min, max, relativeSpread, pairedRatios, sum };
