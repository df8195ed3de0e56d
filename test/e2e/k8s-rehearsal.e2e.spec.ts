import { createIntermediateCa, createRootCa, issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { adminGet, sample, scrape } from '../support/admin-app';
import { SecretVolume } from '../support/secret-volume';
import { freePort, startService, type RunningService } from '../support/spawn-service';
import { TempDir } from '../support/test-pki';
import { httpsGet } from '../support/tls-probe';

const K8S = join(__dirname, '..', '..', 'deploy', 'k8s');
const EKU: Record<string, 'serverAuth' | 'clientAuth'> = { 'server auth': 'serverAuth', 'client auth': 'clientAuth' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Certificate and the container of `app` in deploy/k8s/<app>.yaml. */
function manifest(app: string): { certificate: any; container: any; mountPath: string } {
  const docs = parseAllDocuments(readFileSync(join(K8S, `${app}.yaml`), 'utf8'));
  const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS());
  const certificate = objects.find((o) => o.kind === 'Certificate');
  const container = objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0];
  return { certificate, container, mountPath: container.volumeMounts[0].mountPath };
}

/**
 * A rehearsal of deploy/k8s without a cluster: certificates made as the
 * manifests' cert-manager resources describe them (root -> global CA ->
 * service, subject, SPIFFE URI, DNS names, the usages of each role, 7 days),
 * written as cert-manager writes a secret (tls.crt with the chain, tls.key,
 * ca.crt the root) into a directory the kubelet's way, and the built services
 * started with the Deployments' own environment (paths moved from the mount
 * path to that directory, ports to free loopback ports). A renewal is a
 * `..data` swap, picked up without a restart.
 */
describe('deploy/k8s rehearsed on this machine', () => {
  const dir = new TempDir('nest-mtls-k8s-');
  let root: IssuedCertificate;
  let global: IssuedCertificate;
  const running: RunningService[] = [];

  beforeAll(async () => {
    root = await createRootCa({ subject: 'CN=nest-mtls Root CA,O=nest-mtls' });
    global = await createIntermediateCa(root, { subject: 'CN=nest-mtls Global CA,O=nest-mtls' });
  });

  afterAll(async () => {
    for (const service of running) await service.stop();
    dir.cleanup();
  });

  /** A certificate as cert-manager would issue `app`'s Certificate. */
  function issue(app: string): Promise<IssuedCertificate> {
    const { spec } = manifest(app).certificate;
    return issueCertificate(global, {
      subject: `CN=${spec.commonName},O=${spec.subject.organizations[0]}`,
      dns: spec.dnsNames,
      uri: spec.uris,
      extendedKeyUsage: spec.usages.filter((u: string) => EKU[u]).map((u: string) => EKU[u]),
      notAfter: new Date(Date.now() + Number(/^(\d+)h$/.exec(spec.duration)![1]) * 3600 * 1000),
    });
  }

  /** The secret's files as cert-manager writes them for a CA issuer whose chain ends at the root. */
  function secretFiles(cert: IssuedCertificate): Record<string, string> {
    return { 'tls.crt': cert.certPem + global.certPem + root.certPem, 'tls.key': cert.keyPem, 'ca.crt': root.certPem };
  }

  /** Starts `app` with its Deployment's environment, the secret in `volume`, free ports on loopback. */
  async function start(app: string, volume: SecretVolume): Promise<{ service: RunningService; env: Record<string, string> }> {
    const { container, mountPath } = manifest(app);
    const env: Record<string, string> = {};
    for (const { name, value } of container.env as Array<{ name: string; value: string }>) env[name] = value.startsWith(`${mountPath}/`) ? volume.path(value.slice(mountPath.length + 1)) : value;
    for (const name of ['PORT', 'TCP_PORT', 'ADMIN_PORT']) if (env[name]) env[name] = String(await freePort());
    Object.assign(env, { HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1' });
    const service = await startService(app, env);
    running.push(service);
    return { service, env };
  }

  it('user-service and home-page-service start with the manifests\' environment and cert-manager-shaped secrets; the policy holds', async () => {
    const usVolume = new SecretVolume(dir.path('user-service'));
    const usCert = await issue('user-service');
    usVolume.update(secretFiles(usCert));
    const homeVolume = new SecretVolume(dir.path('home-page-service'));
    const homeCert = await issue('home-page-service');
    homeVolume.update(secretFiles(homeCert));
    const eventCert = await issue('event-service');

    const us = await start('user-service', usVolume);
    const home = await start('home-page-service', homeVolume);
    const usHealth = await adminGet(Number(us.env.ADMIN_PORT), '/health');
    expect(usHealth.status).toBe(200);
    expect(usHealth.json.details.certificate).toMatchObject({ subject: 'CN=user-service,O=nest-mtls', roles: ['serverAuth'], warningDays: 2, expiresSoon: false });
    expect(usHealth.json.details.trustStore.size).toBe(1);
    const homeHealth = await adminGet(Number(home.env.ADMIN_PORT), '/health');
    expect(homeHealth.status).toBe(200);
    expect(homeHealth.json.details.certificate).toMatchObject({ subject: 'CN=home-page-service,O=nest-mtls', roles: ['clientAuth'] });

    // home-page-service's certificate (client auth only) against user-service by the name in USER_SERVICE_URL.
    const as = (cert: IssuedCertificate) => ({ key: cert.keyPem, cert: cert.certPem + global.certPem, ca: root.certPem, servername: 'user-service' });
    expect((await httpsGet(Number(us.env.PORT), '/users/1', as(homeCert))).status).toBe(200);
    expect((await httpsGet(Number(us.env.PORT), '/users/1', as(eventCert))).status).toBe(403);

    // A renewal, as cert-manager and the kubelet do it: a new key and certificate, one ..data swap.
    const renewed = await issue('user-service');
    usVolume.update(secretFiles(renewed));
    const admin = Number(us.env.ADMIN_PORT);
    const since = Date.now();
    while (sample(await scrape(admin), 'mtls_reloads_total', { result: 'success' }) !== 1) {
      if (Date.now() - since > 5000) throw new Error(`the renewal was not picked up:\n${us.service.output()}`);
      await sleep(100);
    }
    expect((await adminGet(admin, '/health')).json.details.certificate.serial).toBe(renewed.certificate.serialNumber);
    expect((await httpsGet(Number(us.env.PORT), '/users/1', as(homeCert))).status).toBe(200);
  }, 90000);
});
