import { join } from 'node:path';

/** workload.proto as the SPIFFE project publishes it, shipped in the package (proto/spiffe/workload/): the service `SpiffeWorkloadAPI`. */
export const WORKLOAD_PROTO = join(__dirname, '..', '..', 'proto', 'spiffe', 'workload', 'workload.proto');

/** The metadata every Workload API call carries: SPIRE refuses a call without it (InvalidArgument), so a browser or an SSRF cannot reach the API by accident. */
export const WORKLOAD_HEADER = { name: 'workload.spiffe.io', value: 'true' } as const;
