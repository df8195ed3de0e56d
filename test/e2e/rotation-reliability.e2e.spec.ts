import { runReliability } from '../../scripts/rotation-reliability';

/**
 * The reliability target of certificate rotation, over real TLS and real
 * files (scripts/rotation-reliability.js, also `npm run reliability`):
 * user-service and home-page-service as their own processes, load from a
 * second process the whole time, 20 Kubernetes-style ..data swaps of the
 * server certificate, one truncated certificate, a second CA added to the
 * trust store, and home-page-service's client certificate swapped.
 */
describe('certificate rotation under load', () => {
  it('fails no request, serves each good swap within 5 s, never serves the broken one; trust store and outbound client follow', async () => {
    const lines: string[] = [];
    const report = await runReliability({ rotations: 20, log: (line: string) => void lines.push(line) });
    console.log(lines.join('\n'));
    expect(report.requests.failed).toBe(0);
    expect(report.requests.keepAlive).toBeGreaterThan(0);
    expect(report.requests.newConnections).toBeGreaterThan(0);
    expect(report.swapMs).toHaveLength(20);
    for (const ms of report.swapMs) expect(ms).toBeLessThanOrEqual(5000);
    expect(report.brokenServed).toBe(false);
    expect(report.newCa.before).not.toBe(200);
    expect(report.newCa.after).toBe(200);
    expect(report.newCa.ms).toBeLessThanOrEqual(5000);
    expect(report.outbound.ms).toBeLessThanOrEqual(5000);
    expect(report.outbound.failedPageLoads).toBe(0);
    expect(report.pass).toBe(true);
  }, 120_000);
});
