'use strict';
/* Small statistics over the rounds of the bench. */

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

module.exports = { median, min, max, relativeSpread, pairedRatios, sum };
