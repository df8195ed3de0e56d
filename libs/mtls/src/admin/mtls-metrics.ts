import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { X509Certificate } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { subjectDn } from '../identity/dn-format';
import { MtlsMaterialSource } from '../material/material-source';
import { MtlsEvents } from '../telemetry/mtls-events';
import { REFUSAL_REASONS } from '../telemetry/refusal-reason';
import { groupLabel } from '../telemetry/tls-connection';
import { canonicalGroupName } from '../config/key-exchange-groups';
import { MTLS_ADMIN_OPTIONS } from './mtls-admin.module-definition';
import { resolveAdminOptions, type MtlsAdminOptions } from './mtls-admin-options';
import { RecentSubjects } from './recent-subjects';

/** The `role` label of our own certificates: what the leaf is used for, and the CA certificates we send with it. */
const ROLE_LABEL = { serverAuth: 'server', clientAuth: 'client' } as const;

/**
 * The Prometheus metrics of one application, in a registry of its own
 * (`registry`; several applications in one process do not mix), built from
 * MtlsEvents' counts (plain numbers the handshake and request paths
 * increment, read when scraped) and the streams of MtlsEvents and
 * MtlsMaterialSource:
 *
 * | metric | labels | from |
 * |---|---|---|
 * | `mtls_handshake_failures_total` | `reason` (the refusal reason codes) | every connection refused at the TLS level, on every endpoint |
 * | `mtls_handshakes_total` | `group` (the key-exchange group: a known OpenSSL group name, `none`, `unknown` or `other`) | every completed TLS handshake, on every endpoint |
 * | `mtls_guard_decisions_total` | `route`, `outcome` (`allowed`, `refused`, `audited`) | every ClientCertGuard decision; `route` is the declared route or message pattern |
 * | `mtls_guard_refusals_total` | `route`, `outcome` (`refused`, `audited`), `reason` (GuardRefusalReason), `rule` (the policy's PolicyRuleCode for reason `policy`, else empty) | every refusal of ClientCertGuard, and every one audit mode let in: why, in codes from fixed sets (never what the caller presented) |
 * | `mtls_certificate_expiry_timestamp_seconds` | `role` (`server`, `client`, `chain`), `subject`, `serial` | our certificate (per role in use) and the CA certificates sent with it, from the material in use |
 * | `mtls_peer_certificate_expiry_timestamp_seconds` | `subject` | the verified callers seen, the last `maxPeerSubjects` (1000) distinct subjects |
 * | `mtls_reloads_total` | `result` (`success`, `failure`) | every reload of the material that found changed files |
 * | `mtls_revocation_checks_total` | `source`, `result` | every revocation check (when revocation checking is on) |
 *
 * plus prom-client's default process and Node.js metrics. Counters of every
 * reason and reload result start at 0, so rates work from the first scrape.
 */
@Injectable()
export class MtlsMetrics implements OnModuleDestroy {
  /** The application's registry: `await registry.metrics()` is the text /metrics serves. */
  readonly registry = new Registry();
  private readonly subscriptions: Subscription[] = [];
  private readonly peers: RecentSubjects<Date>;

  constructor(source: MtlsMaterialSource, events: MtlsEvents, @Inject(MTLS_ADMIN_OPTIONS) rawOptions: MtlsAdminOptions) {
    const options = resolveAdminOptions(rawOptions);
    const registers = [this.registry];
    this.peers = new RecentSubjects(options.maxPeerSubjects);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });

    const handshakeFailures = new Counter({
      name: 'mtls_handshake_failures_total',
      help: 'Connections refused at the TLS level (handshake, renegotiation, no request after the handshake), by reason code.',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of REFUSAL_REASONS) handshakeFailures.inc({ reason }, 0);

    // Counted in plain numbers by the handshake and request paths (MtlsEvents.counts); the counters take the counts when scraped.
    const counts = events.counts;
    for (const group of (source.current().options.groupList ?? '').split(':')) {
      if (!group) continue;
      const label = groupLabel(canonicalGroupName(group) ?? group);
      counts.handshakes.set(label, counts.handshakes.get(label) ?? 0);
    }
    new Counter({
      name: 'mtls_handshakes_total',
      help: 'Completed TLS handshakes, by key-exchange group (X25519MLKEM768: hybrid post-quantum).',
      labelNames: ['group'] as const,
      registers,
      collect() {
        this.reset();
        for (const [group, count] of counts.handshakes) this.inc({ group }, count);
      },
    });

    // Routes are declared ones and reasons codes from fixed sets: the maps stay small.
    new Counter({
      name: 'mtls_guard_decisions_total',
      help: 'Decisions of ClientCertGuard, by route (the declared route path or message pattern) and outcome.',
      labelNames: ['route', 'outcome'] as const,
      registers,
      collect() {
        this.reset();
        for (const { route, outcome, count } of counts.decisions.values()) if (count > 0) this.inc({ route, outcome }, count);
      },
    });

    // The same for refusals, by why: codes from fixed sets only (the reason in words holds the caller's values: never a label).
    new Counter({
      name: 'mtls_guard_refusals_total',
      help: 'Refusals of ClientCertGuard (and callers audit mode let in), by route, outcome, reason code and, for a policy refusal, the rule that refused.',
      labelNames: ['route', 'outcome', 'reason', 'rule'] as const,
      registers,
      collect() {
        this.reset();
        for (const { route, outcome, reason, rule, count } of counts.refusals.values()) this.inc({ route, outcome, reason, rule }, count);
      },
    });

    const peers = this.peers;
    new Gauge({
      name: 'mtls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of our own certificate (per role in use) and of the CA certificates sent with it, as Unix seconds.',
      labelNames: ['role', 'subject', 'serial'] as const,
      registers,
      collect() {
        this.reset();
        const [leaf, ...cas] = source.current().material.identity.chain;
        const roles = [...source.rolesInUse()].map((role) => ROLE_LABEL[role]);
        for (const role of roles.length > 0 ? roles : ['unused']) this.set({ role, subject: dnOf(leaf), serial: leaf.serialNumber }, seconds(leaf.validTo));
        for (const ca of cas) this.set({ role: 'chain', subject: dnOf(ca), serial: ca.serialNumber }, seconds(ca.validTo));
      },
    });

    new Gauge({
      name: 'mtls_peer_certificate_expiry_timestamp_seconds',
      help: `notAfter of the certificates of verified callers, by subject, as Unix seconds (the last ${options.maxPeerSubjects} distinct subjects seen).`,
      labelNames: ['subject'] as const,
      registers,
      collect() {
        this.reset();
        for (const [subject, notAfter] of peers) this.set({ subject }, notAfter.getTime() / 1000);
      },
    });

    const reloads = new Counter({
      name: 'mtls_reloads_total',
      help: 'Reloads of the TLS material that found changed files, by result (failure: the last good material stays in use).',
      labelNames: ['result'] as const,
      registers,
    });
    reloads.inc({ result: 'success' }, 0);
    reloads.inc({ result: 'failure' }, 0);

    const revocationChecks = new Counter({
      name: 'mtls_revocation_checks_total',
      help: 'Revocation checks of client certificates, by where the status came from (crl, crldp, ocsp) and result (good, revoked, unknown).',
      labelNames: ['source', 'result'] as const,
      registers,
    });

    this.subscriptions.push(
      events.refusals.subscribe(({ reason }) => handshakeFailures.inc({ reason })),
      events.verifiedCallers.subscribe(({ subject, validTo }) => peers.see(subject, validTo)),
      events.revocationChecks.subscribe(({ source: from, result }) => revocationChecks.inc({ source: from, result })),
      source.reloads.subscribe(({ result }) => {
        if (result !== 'unchanged') reloads.inc({ result });
      }),
    );
  }

  /** The text /metrics serves, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.registry.clear();
  }
}

const dns = new WeakMap<X509Certificate, string>();

/** The subject as the guard matches it (RFC 4514), parsed once per certificate. */
function dnOf(cert: X509Certificate): string {
  let dn = dns.get(cert);
  if (dn === undefined) {
    try {
      dn = subjectDn(cert);
    } catch {
      dn = cert.subject.split('\n').reverse().join(',');
    }
    dns.set(cert, dn);
  }
  return dn;
}

function seconds(date: string | Date): number {
  return new Date(date).getTime() / 1000;
}
