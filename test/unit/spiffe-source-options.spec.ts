import { spiffeWorkloadApiSource, spiffeWorkloadApiSourceFromEnv } from 'nest-mtls/spiffe';
import { resolveSpiffeSourceOptions, workloadApiAddress } from 'nest-mtls/internal';
import { configProblem } from '../support/config-problem';

describe('the address of the SPIFFE Workload API (SPIFFE_ENDPOINT_SOCKET, socketPath)', () => {
  it.each([
    ['unix:///run/spire/sockets/agent.sock', '/run/spire/sockets/agent.sock'],
    ['unix:/run/spire/sockets/agent.sock', '/run/spire/sockets/agent.sock'],
    ['/run/spire/sockets/agent.sock', '/run/spire/sockets/agent.sock'],
    ['  unix:///tmp/a%20b/agent.sock ', '/tmp/a b/agent.sock'],
  ])('%s is the socket %s', (value, path) => {
    expect(workloadApiAddress(value)).toEqual({ path, uri: `unix://${path}` });
  });

  it.each([
    ['tcp://127.0.0.1:8081', /tcp:\/\/ Workload API endpoints are not supported/],
    ['unix://agent.sock', /the path must be absolute, with an empty host/],
    ['unix:agent.sock', /the path must be absolute/],
    ['agent.sock', /is not a Unix socket address/],
    ['unix:///run/agent.sock?x=1', /no query or fragment/],
    ['unix:///run/agent.sock#x', /no query or fragment/],
    ['unix:///run/%zz', /not valid percent-encoding/],
    ['', /is empty/],
  ])('%s is refused', (value, problem) => {
    expect(workloadApiAddress(value)).toMatch(problem);
  });
});

describe('spiffeWorkloadApiSource options', () => {
  it('takes the socket from SPIFFE_ENDPOINT_SOCKET unless socketPath is given, and has stated defaults', () => {
    expect(resolveSpiffeSourceOptions({}, { SPIFFE_ENDPOINT_SOCKET: 'unix:///run/spire/sockets/agent.sock' })).toMatchObject({
      address: { path: '/run/spire/sockets/agent.sock' },
      addressSetting: { setting: 'socketPath', variable: 'SPIFFE_ENDPOINT_SOCKET' },
      staleAfterMs: 300_000,
      startupTimeoutMs: 30_000,
    });
    expect(resolveSpiffeSourceOptions({ socketPath: '/a.sock' }, { SPIFFE_ENDPOINT_SOCKET: 'unix:///b.sock' }).address.path).toBe('/a.sock');
  });

  it('names the source by its socket, and opens nothing until the first read', () => {
    const source = spiffeWorkloadApiSource({ socketPath: 'unix:///nowhere/agent.sock' });
    expect(source.name).toBe('SPIFFE Workload API unix:///nowhere/agent.sock');
    source.close();
  });

  it.each([
    [{}, {}, 'socketPath: not given, and SPIFFE_ENDPOINT_SOCKET is not set: where is the SPIFFE Workload API? e.g. unix:///run/spire/sockets/agent.sock'],
    [{}, { SPIFFE_ENDPOINT_SOCKET: 'tcp://127.0.0.1:8081' }, 'SPIFFE_ENDPOINT_SOCKET (socketPath): "tcp://127.0.0.1:8081": tcp:// Workload API endpoints are not supported (the agent attests its callers over a Unix socket); give unix:///path/to/agent.sock'],
    [{ socketPath: 'agent.sock' }, {}, 'socketPath: "agent.sock" is not a Unix socket address; expected unix:///path/to/agent.sock'],
    [{ socketPath: '/a.sock', spiffeId: 'spiffe://Example.org/x' }, {}, 'spiffeId: "spiffe://Example.org/x" is not a SPIFFE ID: the trust domain must be lowercase'],
    [{ socketPath: '/a.sock', spiffeId: 'spiffe://example.org' }, {}, 'spiffeId: spiffe://example.org names a trust domain, not a workload (an X509-SVID\'s ID has a path)'],
    [{ socketPath: '/a.sock', staleAfterMs: 0 }, {}, 'staleAfterMs: expected whole milliseconds from 1 to 86400000, got 0'],
    [{ socketPath: '/a.sock', startupTimeoutMs: 1.5 }, {}, 'startupTimeoutMs: expected whole milliseconds from 1 to 86400000, got 1.5'],
    [{ socketPath: '/a.sock', spiffeID: 'spiffe://example.org/x' }, {}, 'spiffeID: not an option of spiffeWorkloadApiSource; did you mean spiffeId?'],
    [{ socketPath: '/a.sock', staleAfter: 5 }, {}, 'staleAfter: not an option of spiffeWorkloadApiSource; did you mean staleAfterMs?'],
  ])('%j with %j is refused: %s', (options, env, message) => {
    expect(configProblem(() => resolveSpiffeSourceOptions(options as never, env))).toBe(message);
  });
});

describe('spiffeWorkloadApiSourceFromEnv', () => {
  it('is off unless MTLS_SPIFFE=true', () => {
    expect(spiffeWorkloadApiSourceFromEnv({})).toBeUndefined();
    expect(spiffeWorkloadApiSourceFromEnv({ MTLS_SPIFFE: 'false', SPIFFE_ENDPOINT_SOCKET: 'unix:///a.sock' })).toBeUndefined();
  });

  it('MTLS_SPIFFE=true reads SPIFFE_ENDPOINT_SOCKET and the MTLS_SPIFFE_* options', () => {
    const source = spiffeWorkloadApiSourceFromEnv({ MTLS_SPIFFE: 'true', SPIFFE_ENDPOINT_SOCKET: 'unix:///run/spire/sockets/agent.sock', MTLS_SPIFFE_ID: 'spiffe://example.org/user-service' });
    expect(source?.name).toBe('SPIFFE Workload API unix:///run/spire/sockets/agent.sock');
    source?.close();
    // A ConfigService (anything with get()) works as the source of variables too.
    const viaConfig = spiffeWorkloadApiSourceFromEnv({ get: (name: string) => ({ MTLS_SPIFFE: 'yes', SPIFFE_ENDPOINT_SOCKET: '/s.sock' })[name] });
    expect(viaConfig?.name).toBe('SPIFFE Workload API unix:///s.sock');
    viaConfig?.close();
  });

  it.each([
    [{ MTLS_SPIFFE: 'true' }, 'socketPath: not given, and SPIFFE_ENDPOINT_SOCKET is not set: where is the SPIFFE Workload API? e.g. unix:///run/spire/sockets/agent.sock'],
    [{ MTLS_SPIFFE: 'maybe' }, 'MTLS_SPIFFE (spiffe): expected true or false, got "maybe"'],
    [{ MTLS_SPIFFE: 'true', SPIFFE_ENDPOINT_SOCKET: '/a.sock', MTLS_SPIFFE_ID: 'https://example.org/x' }, 'MTLS_SPIFFE_ID (spiffeId): "https://example.org/x" is not a SPIFFE ID: it must start with spiffe:// (lowercase)'],
    [{ MTLS_SPIFFE: 'true', SPIFFE_ENDPOINT_SOCKET: '/a.sock', MTLS_SPIFFE_STALE_AFTER_MS: '5m' }, 'MTLS_SPIFFE_STALE_AFTER_MS (staleAfterMs): expected a whole number, got "5m"'],
    [{ MTLS_SPIFFE: 'true', SPIFFE_ENDPOINT_SOCKET: '/a.sock', MTLS_SPIFFE_STARTUP_TIMEOUT_MS: '0' }, 'MTLS_SPIFFE_STARTUP_TIMEOUT_MS (startupTimeoutMs): expected whole milliseconds from 1 to 86400000, got 0'],
    [{ SPIFFE_ENDPOINT_SOCKET: '/a.sock', MTLS_SPIFFE_ID: 'spiffe://example.org/x' }, 'MTLS_SPIFFE_ID: is set but MTLS_SPIFFE is not true, so nothing reads it: set MTLS_SPIFFE=true to take the material from the SPIFFE Workload API'],
    [{ MTLS_SPIFFE: 'true', SPIFFE_ENDPOINT_SOCKET: '/a.sock', MTLS_SPIFFE_STALE_AFTER: '1000' }, 'MTLS_SPIFFE_STALE_AFTER: not a setting of nest-mtls; did you mean MTLS_SPIFFE_STALE_AFTER_MS?'],
  ])('%j is refused: %s', (env, message) => {
    expect(configProblem(() => spiffeWorkloadApiSourceFromEnv(env))).toBe(message);
  });
});
