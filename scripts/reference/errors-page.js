// docs/reference/errors.md: every error code nest-mtls throws and every refusal
// code it logs, counts or answers with, from the tables in the code:
// MTLS_ERROR_CODES (errors/mtls-error-codes.ts), REFUSAL_REASONS and
// REFUSAL_REASON_MEANINGS, TLS_REFUSAL_STAGES, GUARD_REFUSAL_REASONS and
// POLICY_RULE_CODES, read from the built library.
const { readdirSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { docOfDeclaration } = require('./ts-members');
const { table, GENERATED } = require('./markdown');

const SRC = join(__dirname, '..', '..', 'libs', 'mtls', 'src');
const DIST = join(__dirname, '..', '..', 'libs', 'mtls', 'dist');
const dist = (file) => require(join(DIST, file));

/** Every `ERR_MTLS_*` literal in the library's source, with a file that uses it. */
function codesInSource(dir = SRC, found = new Map()) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) codesInSource(path, found);
    else if (entry.name.endsWith('.ts')) {
      for (const [, code] of readFileSync(path, 'utf8').matchAll(/'(ERR_MTLS_[A-Z0-9_]+)'/g)) if (!found.has(code)) found.set(code, relative(SRC, path));
    }
  }
  return found;
}

function errorsPage() {
  const { MTLS_ERROR_CODES } = dist('errors/mtls-error-codes.js');
  const unlisted = [...codesInSource()].filter(([code]) => !(code in MTLS_ERROR_CODES));
  if (unlisted.length > 0) {
    throw new Error(`error codes used in libs/mtls/src but missing from MTLS_ERROR_CODES (libs/mtls/src/errors/mtls-error-codes.ts): ${unlisted.map(([c, f]) => `${c} (${f})`).join(', ')}`);
  }
  const { REFUSAL_REASONS, REFUSAL_REASON_MEANINGS } = dist('telemetry/refusal-reason.js');
  if ([...REFUSAL_REASONS].sort().join() !== Object.keys(REFUSAL_REASON_MEANINGS).sort().join()) {
    throw new Error('REFUSAL_REASONS and REFUSAL_REASON_MEANINGS (libs/mtls/src/telemetry/refusal-reason.ts) name different reasons: list every reason in both');
  }
  const { TLS_REFUSAL_STAGES } = dist('telemetry/tls-refusal.js');
  const { GUARD_REFUSAL_REASONS } = dist('telemetry/mtls-events.js');
  const { POLICY_RULE_CODES } = dist('policy/client-cert-decision.js');
  return [
    GENERATED,
    '',
    '# Errors and refusal codes',
    '',
    'Every error code nest-mtls throws and every code it gives a refused connection or caller, generated from the tables in the code. The codes are stable across releases (safe for alerts, dashboards and metric labels); messages may be reworded.',
    '',
    '- [Error codes](#error-codes)',
    '- [Handshake refusal reasons](#handshake-refusal-reasons)',
    '- [Refusal stages](#refusal-stages)',
    '- [Guard refusal reasons](#guard-refusal-reasons)',
    '- [Policy rule codes](#policy-rule-codes)',
    '',
    '## Error codes',
    '',
    'The `code` of every error nest-mtls throws on purpose. All but ServerIdentityMismatchError (the `cause` of an `ERR_MTLS_CLIENT_TLS`) are `MtlsError`s: catch `MtlsError` and switch on `code`. The error that caused one, if any, is its `cause`.',
    '',
    table(['Code', 'Meaning'], Object.entries(MTLS_ERROR_CODES).map(([code, meaning]) => [`\`${code}\``, meaning])),
    '',
    '## Handshake refusal reasons',
    '',
    'Why a TLS connection was refused, before any request reached the application: the `reason` of the log line (event `tls_refused`), of `MtlsEvents.refusals`, and the label of `mtls_handshake_failures_total{reason}`. The log line adds the low-level code (OpenSSL verify error, Node error code) and, where one helps, a hint.',
    '',
    table(['Reason', 'Meaning'], REFUSAL_REASONS.map((reason) => [`\`${reason}\``, REFUSAL_REASON_MEANINGS[reason]])),
    '',
    '## Refusal stages',
    '',
    'Where a connection was refused (`stage` of `MtlsEvents.refusals`, and of the log line).',
    '',
    table(['Stage', 'Meaning'], Object.entries(TLS_REFUSAL_STAGES).map(([stage, meaning]) => [`\`${stage}\``, meaning])),
    '',
    '## Guard refusal reasons',
    '',
    "Why ClientCertGuard refused (or, under `policyMode: 'audit'`, would have refused) a caller: the `reason` of `MtlsEvents.guardDecisions`, of the guard's log line, and the label of `mtls_guard_refusals_total{reason}`. The HTTP status is what an HTTP caller gets; a TCP microservice caller gets an RpcException, a WebSocket client the `exception` event. The message the caller sees never names the policy.",
    '',
    table(['Reason', 'Status', 'Meaning'], Object.entries(GUARD_REFUSAL_REASONS).map(([reason, { status, meaning }]) => [`\`${reason}\``, String(status), meaning])),
    '',
    '## Policy rule codes',
    '',
    `${docOfDeclaration('policy/client-cert-decision.ts', 'PolicyRuleCode').replace(/\n/g, ' ')} The \`rule\` of a guard refusal with reason \`policy\`, and the label of \`mtls_guard_refusals_total{rule}\`.`,
    '',
    POLICY_RULE_CODES.map((code) => `\`${code}\``).join(', '),
    '',
  ].join('\n');
}

module.exports = { errorsPage };
