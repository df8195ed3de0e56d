/**
 * The order test files start in: the longest first, so that no worker is left
 * running one long file at the end of the run while the others idle.
 *
 * Jest's own sequencer knows how long a file took only from its cache of the
 * last run on this machine; on a fresh clone (CI) it falls back to file size,
 * which starts the stranger-app test (two minutes) late. Here a file's last
 * duration comes from that cache when there is one, else from the estimates
 * below (seconds on a 2-core machine, from `npx jest --json`), else it counts
 * as short. Files that failed last time still go first, as in Jest.
 */
const Sequencer = require('@jest/test-sequencer').default;
const { basename } = require('node:path');

/** Files that take over ten seconds: name → seconds. */
const ESTIMATES = {
  'packed-package.e2e.spec.ts': 140,
  'docs-examples.e2e.spec.ts': 75,
  'fail-fast.e2e.spec.ts': 30,
  'dropwizard-article.e2e.spec.ts': 27,
  'idle-connections.e2e.spec.ts': 25,
  'revocation-ocsp.e2e.spec.ts': 17,
  'revocation-crl-files.e2e.spec.ts': 16,
  'spiffe-workload-api.e2e.spec.ts': 16,
  'refusal-log.e2e.spec.ts': 16,
  'tcp-microservice.e2e.spec.ts': 15,
  'public-api.spec.ts': 15,
  'http2.e2e.spec.ts': 14,
  'reference-docs.e2e.spec.ts': 14,
  'reload.e2e.spec.ts': 12,
  'rotation-reliability.e2e.spec.ts': 11,
  'graceful-shutdown.e2e.spec.ts': 10,
};

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const duration = (test) => this.time(test) ?? (ESTIMATES[basename(test.path)] ?? 0) * 1000;
    for (const test of tests) test.duration = duration(test);
    return tests.sort((a, b) => {
      const failedA = this.hasFailed(a);
      if (failedA !== this.hasFailed(b)) return failedA ? -1 : 1;
      return b.duration - a.duration || a.path.localeCompare(b.path);
    });
  }
}

module.exports = LongestFirstSequencer;
