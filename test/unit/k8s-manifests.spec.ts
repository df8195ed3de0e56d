import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, Service } from 'kubernetes-models/v1';
import { mtlsOptionsFromEnv } from 'nest-mtls';
import { millisecondsSetting, portSetting } from 'nest-mtls/app';
import { ADMIN_PATHS, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { KNOWN_MTLS_VARIABLES } from 'nest-mtls/internal';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'k8s');
const SERVICES = ['user-service', 'home-page-service', 'event-service'];
/** The files cert-manager writes into a Certificate's secret. */
const SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt'];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any };

function load(): Array<Obj & { file: string }> {
  const out: Array<Obj & { file: string }> = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'));
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0 || doc.warnings.length > 0) throw new Error(`${file}: ${[...doc.errors, ...doc.warnings].map((e) => e.message).join('; ')}`);
      const value = doc.toJS();
      if (value) out.push({ ...value, file });
    }
  }
  return out;
}

/** `168h` -> ms (cert-manager durations as these manifests write them: hours). */
function hours(duration: string): number {
  const m = /^(\d+)h$/.exec(duration);
  if (!m) throw new Error(`not a duration in hours: ${duration}`);
  return Number(m[1]) * 3600 * 1000;
}

/**
 * deploy/k8s parses, validates against the Kubernetes and cert-manager
 * schemas (kubernetes-models), and its references agree: issuers,
 * secrets, mount paths and the MTLS_* variables that read them, ports,
 * probes, Services, and the values the services themselves read.
 */
describe('deploy/k8s', () => {
  const objects = load();
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const named = (kind: string, name: string) => {
    const found = of(kind).find((o) => o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found;
  };
  const container = (app: string) => named('Deployment', app).spec.template.spec.containers[0];
  const env = (app: string): Record<string, string> => Object.fromEntries(container(app).env.map((e: { name: string; value: string }) => [e.name, e.value]));

  it('kustomization.yaml lists every manifest', () => {
    const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'));
    const resources: string[] = (Array.isArray(kustomization) ? kustomization[0] : kustomization).toJS().resources;
    expect([...resources].sort()).toEqual(readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
  });

  it('holds a namespace, the issuers, and a Certificate, Deployment and Service per demo service, all in that namespace', () => {
    expect(of('Namespace').map((o) => o.metadata.name)).toEqual(['nest-mtls']);
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(`${o.kind}/${o.metadata.name}: ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name}: nest-mtls`);
    for (const kind of ['Deployment', 'Service']) expect(of(kind).map((o) => o.metadata.name).sort()).toEqual([...SERVICES].sort());
    expect(of('Certificate').map((o) => o.metadata.name).sort()).toEqual([...SERVICES, 'nest-mtls-global-ca', 'nest-mtls-root-ca'].sort());
    expect(of('Issuer').map((o) => o.metadata.name).sort()).toEqual(['nest-mtls-global-ca', 'nest-mtls-root-ca', 'nest-mtls-selfsigned']);
  });

  it('validates against the Kubernetes and cert-manager schemas', () => {
    const models: Record<string, new (o: any) => { validate(): void }> = { Namespace, Deployment, Service, Certificate, Issuer };
    for (const o of objects) {
      const Model = models[o.kind];
      expect(Model).toBeDefined();
      const { file, ...object } = o;
      try {
        new Model(object).validate();
      } catch (err) {
        throw new Error(`${file}: ${o.kind} ${o.metadata.name}: ${(err as Error).message}`, { cause: err });
      }
    }
    // The validator does bite: a port given as text, a certificate without its secret.
    const broken = structuredClone(named('Deployment', 'user-service'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'https';
    expect(() => new Deployment(broken).validate()).toThrow();
    const noSecret = structuredClone(named('Certificate', 'user-service'));
    delete noSecret.spec.secretName;
    expect(() => new Certificate(noSecret as ConstructorParameters<typeof Certificate>[0]).validate()).toThrow();
  });

  it('chains the issuers: self-signed root Issuer -> root CA -> global CA Issuer -> the services', () => {
    const issuerOf = (cert: Obj) => {
      expect(cert.spec.issuerRef).toMatchObject({ kind: 'Issuer', group: 'cert-manager.io' });
      return named('Issuer', cert.spec.issuerRef.name);
    };
    // Every CA Issuer signs with the secret of an isCA Certificate.
    for (const issuer of of('Issuer').filter((i) => i.spec.ca)) {
      const ca = of('Certificate').find((c) => c.spec.secretName === issuer.spec.ca.secretName);
      expect(ca?.spec.isCA).toBe(true);
    }
    const root = named('Certificate', 'nest-mtls-root-ca');
    expect(issuerOf(root).spec).toEqual({ selfSigned: {} });
    const global = named('Certificate', 'nest-mtls-global-ca');
    expect(issuerOf(global).spec.ca.secretName).toBe(root.spec.secretName);
    for (const app of SERVICES) expect(issuerOf(named('Certificate', app)).spec.ca.secretName).toBe(global.spec.secretName);
    for (const cert of of('Certificate')) expect(hours(cert.spec.renewBefore)).toBeLessThan(hours(cert.spec.duration));
  });

  it.each(SERVICES)('%s: a short-lived certificate with its SPIFFE ID, the subject the policy matches, and the usages of its role', (app) => {
    const cert = named('Certificate', app);
    expect(cert.spec.secretName).toBe(`${app}-tls`);
    expect(cert.spec.commonName).toBe(app);
    expect(cert.spec.subject.organizations).toEqual(['nest-mtls']); // CN=<app>,O=nest-mtls, as the dev PKI's
    expect(cert.spec.uris).toEqual([`spiffe://example.org/${app}`]);
    expect(cert.spec.dnsNames).toEqual([app, `${app}.nest-mtls.svc`, `${app}.nest-mtls.svc.cluster.local`]);
    expect(hours(cert.spec.duration)).toBeLessThanOrEqual(30 * 24 * 3600 * 1000);
    expect(cert.spec.privateKey).toMatchObject({ algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' });
    const vars = env(app);
    if (vars.USER_SERVICE_URL) expect(cert.spec.usages).toContain('client auth'); // it calls
    if (app === 'user-service') expect(cert.spec.usages).toContain('server auth'); // it serves mTLS
    // The warning of /health comes after cert-manager should have renewed: a day overdue, not every week.
    expect(Number(vars.MTLS_EXPIRY_WARNING_DAYS) * 24 * 3600 * 1000).toBeLessThan(hours(cert.spec.renewBefore));
  });

  it.each(SERVICES)('%s: mounts its Certificate\'s secret, and every MTLS_* path variable names a file cert-manager writes there', (app) => {
    const pod = named('Deployment', app).spec.template.spec;
    const vars = env(app);
    const secretVolume = pod.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === named('Certificate', app).spec.secretName);
    expect(secretVolume).toBeDefined();
    const mount = container(app).volumeMounts.find((m: { name: string }) => m.name === secretVolume.name);
    expect(mount).toMatchObject({ readOnly: true });
    expect(secretVolume.secret.defaultMode).toBe(0o440);
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    const paths = Object.entries(vars).filter(([name]) => /^MTLS_.*_PATH$/.test(name));
    expect(paths.map(([name]) => name).sort()).toEqual(['MTLS_CERT_PATH', 'MTLS_KEY_PATH', 'MTLS_TRUST_STORE_PATH']);
    for (const [name, path] of paths) {
      expect(`${name}=${posix.dirname(path)}`).toBe(`${name}=${mount.mountPath}`);
      expect(SECRET_KEYS).toContain(posix.basename(path));
    }
    expect(vars.MTLS_CERT_PATH).toBe(`${mount.mountPath}/tls.crt`);
    expect(vars.MTLS_KEY_PATH).toBe(`${mount.mountPath}/tls.key`);
    expect(vars.MTLS_TRUST_STORE_PATH).toBe(`${mount.mountPath}/ca.crt`);
    for (const name of Object.keys(vars).filter((n) => n.startsWith('MTLS_'))) expect(KNOWN_MTLS_VARIABLES).toContain(name);
    // The service reads them as it would at startup: no unknown variable, no bad value.
    expect(mtlsOptionsFromEnv(vars)).toEqual({ certPath: vars.MTLS_CERT_PATH, keyPath: vars.MTLS_KEY_PATH, trustStorePath: vars.MTLS_TRUST_STORE_PATH });
    expect(vars.NODE_ENV).toBe('production'); // the development PKI is refused
  });

  it.each(SERVICES)('%s: its ports agree with its variables, probes hit the admin port, the Service targets the serving ports only', (app) => {
    const deployment = named('Deployment', app);
    const pod = deployment.spec.template.spec;
    const c = container(app);
    const vars = env(app);
    const portNamed = (name: string) => c.ports.find((p: { name: string }) => p.name === name)?.containerPort;
    const admin = mtlsAdminOptionsFromEnv(vars);
    expect(admin).toMatchObject({ host: '0.0.0.0', port: portNamed('admin') });
    expect(portSetting('PORT', vars.PORT, 0)).toBe(c.ports[0].containerPort);
    if (vars.TCP_PORT) expect(portSetting('TCP_PORT', vars.TCP_PORT, 0)).toBe(portNamed('tcp-rpc'));
    expect(c.readinessProbe.httpGet).toEqual({ path: ADMIN_PATHS.health, port: 'admin' });
    expect(c.livenessProbe.httpGet).toEqual({ path: ADMIN_PATHS.live, port: 'admin' });
    expect(c.startupProbe.httpGet).toEqual({ path: ADMIN_PATHS.live, port: 'admin' });
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(admin.port));
    expect(deployment.spec.template.metadata.annotations['prometheus.io/path']).toBe(ADMIN_PATHS.metrics);
    // Graceful shutdown fits in the grace period: preStop sleep + SHUTDOWN_TIMEOUT_MS, with room for closing.
    const preStop = Number(c.lifecycle.preStop.exec.command[1]) * 1000;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStop + millisecondsSetting('SHUTDOWN_TIMEOUT_MS', vars.SHUTDOWN_TIMEOUT_MS, 10_000) + 5000);
    expect(vars.LOG_FORMAT).toBe('json');
    expect(c.command).toEqual(['node', `dist/apps/${app}/apps/${app}/src/main.js`]);
    expect(existsSync(join(ROOT, 'apps', app, 'src', 'main.ts'))).toBe(true);

    const service = named('Service', app);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    for (const [k, v] of Object.entries(service.spec.selector)) expect(deployment.spec.template.metadata.labels[k]).toBe(v);
    for (const port of service.spec.ports) expect(portNamed(port.targetPort)).toBeDefined();
    expect(service.spec.ports.map((p: { targetPort: string }) => p.targetPort)).not.toContain('admin');
  });

  it('USER_SERVICE_URL reaches user-service: its Service and port, a DNS name of its certificate', () => {
    for (const app of SERVICES.filter((a) => env(a).USER_SERVICE_URL)) {
      const url = new URL(env(app).USER_SERVICE_URL);
      expect(url.protocol).toBe('https:');
      const service = named('Service', url.hostname);
      const port = service.spec.ports.find((p: { port: number }) => p.port === Number(url.port));
      expect(port).toBeDefined();
      expect(container(url.hostname).ports.find((p: { name: string }) => p.name === port.targetPort).containerPort).toBe(Number(env(url.hostname).PORT));
      expect(named('Certificate', url.hostname).spec.dnsNames).toContain(url.hostname);
    }
  });

  it('uses the admin ports of npm run demo (user-service 8081, home-page-service 3080, event-service 3081)', () => {
    expect(SERVICES.map((app) => env(app).ADMIN_PORT)).toEqual(['8081', '3080', '3081']);
    expect(basename(DIR)).toBe('k8s');
  });
});
