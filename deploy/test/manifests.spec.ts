import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { TOPICS } from '@export/contracts';
import { load, loadAll } from 'js-yaml';

const ROOT = resolve(__dirname, '../..');
const K8S = join(ROOT, 'deploy', 'k8s');
const KUSTOMIZATIONS = ['base', 'overlays/local'];
const SERVICES = {
  'connection-management': {
    port: 3000,
    secrets: ['AUTH_JWT_SECRET', 'CREDENTIALS_ENCRYPTION_KEY', 'DATABASE_URL', 'INTERNAL_AUTH_SECRET'],
  },
  'segment-extraction': { port: 3001, secrets: [] },
  'field-mapping': { port: 3002, secrets: [] },
  'autopilot-delivery': { port: 3003, secrets: ['DATABASE_URL', 'INTERNAL_AUTH_SECRET'] },
} as const;
type ServiceName = keyof typeof SERVICES;
const NAMES = Object.keys(SERVICES) as ServiceName[];
/** The services that own a PostgreSQL schema: their pods migrate it in an init container first. */
const WITH_SCHEMA: ServiceName[] = ['connection-management', 'autopilot-delivery'];

/** The image's start command (the last CMD of apps/<app>/Dockerfile, exec form). */
function dockerfileCmd(name: string): string[] {
  const text = readFileSync(join(ROOT, 'apps', name, 'Dockerfile'), 'utf8');
  const cmd = text.split('\n').filter((line) => line.startsWith('CMD ')).pop() ?? 'CMD []';
  return JSON.parse(cmd.slice(4)) as string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: any };

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** `kubectl kustomize` (kustomize is built into kubectl, which the machines and CI have): no cluster needed. */
function render(kustomization: string): K8sObject[] {
  const output = execFileSync('kubectl', ['kustomize', join(K8S, kustomization)], { encoding: 'utf8' });
  return loadAll(output) as K8sObject[];
}

const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)));

describe('deploy/k8s sources', () => {
  it.each(yamlFiles(K8S).map((f) => relative(K8S, f)))('%s parses as YAML', (file) => {
    const documents = loadAll(readFileSync(join(K8S, file), 'utf8')).filter(Boolean) as K8sObject[];
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      expect(typeof document.apiVersion).toBe('string');
      expect(typeof document.kind).toBe('string');
    }
  });

  it.each(KUSTOMIZATIONS)('%s/kustomization.yaml names only files that exist', (dir) => {
    const kustomization = load(readFileSync(join(K8S, dir, 'kustomization.yaml'), 'utf8')) as {
      resources?: string[];
      patches?: { path?: string }[];
      configMapGenerator?: { envs?: string[] }[];
    };
    const referenced = [
      ...(kustomization.resources ?? []),
      ...(kustomization.patches ?? []).flatMap((p) => (p.path ? [p.path] : [])),
      ...(kustomization.configMapGenerator ?? []).flatMap((g) => g.envs ?? []),
    ];
    expect(referenced.length).toBeGreaterThan(0);
    for (const path of referenced)
      expect({ path, exists: existsSync(resolve(K8S, dir, path)) }).toEqual({ path, exists: true });
  });
});

describe.each(KUSTOMIZATIONS)('kustomize build %s', (kustomization) => {
  const objects = render(kustomization);

  it('validates against the Kubernetes and KEDA schemas (kubernetes-models, offline)', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'deploy', 'scripts', 'validate-k8s.mjs')], {
      input: JSON.stringify(objects),
      encoding: 'utf8',
    });
    expect({ stderr: result.stderr, problems: JSON.parse(result.stdout || '"no output"') }).toEqual({ stderr: '', problems: [] });
    expect(result.status).toBe(0);
  });

  it.each(NAMES)('runs %s safely, with probes, resources and time to shut down', (name) => {
    const deployment = find(objects, 'Deployment', name);
    const pod = deployment?.spec.template.spec;
    const [container] = pod.containers;
    const { port } = SERVICES[name];
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    const internal = name === 'connection-management' ? [{ name: 'internal', containerPort: 3100 }] : [];
    expect(container.ports).toEqual([{ name: 'http', containerPort: port }, ...internal]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    // Delivery lets its calls in hand finish (AUTOPILOT_TIMEOUT_MS 10 s) and releases its leases; the other
    // stages finish their batch in hand and leave their groups; plus the 5 s preStop pause.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(name === 'autopilot-delivery' ? 60 : 30);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === name);
    expect(service?.spec.selector).toEqual(deployment?.spec.selector.matchLabels);
    expect(service?.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http' }]);
  });

  it.each(NAMES)('configures %s from the ConfigMap and its secrets from the Secret only', (name) => {
    const container = find(objects, 'Deployment', name)?.spec.template.spec.containers[0];
    const configMap = find(objects, 'ConfigMap', 'segment-export-config');
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap?.metadata.name } }]);
    const env = container.env as { name: string; value?: string; valueFrom?: any }[];
    expect(env.find((e) => e.name === 'KAFKA_GROUP_ID')?.value).toBe(name);
    const fromSecret = env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name).sort();
    expect(fromSecret).toEqual([...SERVICES[name].secrets].sort());
    for (const e of env.filter((e) => e.valueFrom?.secretKeyRef))
      expect(e.valueFrom.secretKeyRef.name).toMatch(/^segment-export-secrets/);
    for (const e of env) expect(/SECRET|KEY$|DATABASE_URL/.test(e.name) && 'value' in e).toBe(false);
  });

  it.each(WITH_SCHEMA)('migrates the schema of %s in an init container before the service starts, never in the service', (name) => {
    const pod = find(objects, 'Deployment', name)?.spec.template.spec;
    const [app] = pod.containers;
    expect(pod.initContainers).toHaveLength(1);
    const [migrate] = pod.initContainers;
    // The same image as the service (so always this version's migrations) and its one-shot migrate command.
    expect(migrate.name).toBe('migrate');
    expect(migrate.image).toBe(app.image);
    expect(migrate.command).toEqual([...dockerfileCmd(name), 'migrate']);
    expect(migrate.envFrom).toEqual(app.envFrom);
    // It needs the database only: no API or encryption secret reaches it.
    const fromSecret = (migrate.env as { name: string; valueFrom?: any }[]).filter((e) => e.valueFrom?.secretKeyRef);
    expect(fromSecret.map((e) => e.name)).toEqual(['DATABASE_URL']);
    expect(fromSecret[0]?.valueFrom.secretKeyRef.name).toMatch(/^segment-export-secrets/);
    expect(migrate.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(migrate.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    // The pods do not each migrate: the service only checks that nothing is pending.
    expect((app.env as { name: string; value?: string }[]).find((e) => e.name === 'MIGRATE_ON_START')?.value).toBe('false');
  });

  it.each(NAMES.filter((n) => !WITH_SCHEMA.includes(n)))('starts %s (no schema) without a migration step', (name) => {
    const pod = find(objects, 'Deployment', name)?.spec.template.spec;
    expect(pod.initContainers).toBeUndefined();
    expect(pod.containers[0].env.some((e: { name: string }) => e.name === 'MIGRATE_ON_START')).toBe(false);
  });

  it("serves the control plane's internal listener in its own Service, reachable by delivery only", () => {
    const configMap = find(objects, 'ConfigMap', 'segment-export-config');
    const internal = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'connection-management-internal');
    const deployment = find(objects, 'Deployment', 'connection-management');
    expect(internal?.spec.selector).toEqual(deployment?.spec.selector.matchLabels);
    expect(internal?.spec.ports).toEqual([{ name: 'internal', port: 3100, targetPort: 'internal' }]);
    expect(configMap?.data.CONTROL_PLANE_URL).toBe('http://connection-management-internal:3100');
    const env = Object.fromEntries(
      (deployment?.spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({ INTERNAL_PORT: '3100', INTERNAL_HOST: '0.0.0.0', METRICS_ON_INTERNAL: 'true' });
    expect(deployment?.spec.template.metadata.annotations['prometheus.io/port']).toBe('3100');
    const policy = find(objects, 'NetworkPolicy', 'connection-management-internal');
    expect(policy?.spec.podSelector.matchLabels).toEqual(deployment?.spec.selector.matchLabels);
    const toInternal = policy?.spec.ingress.find((r: any) => r.ports?.some((p: any) => p.port === 'internal'));
    expect(toInternal.from).toContainEqual({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'autopilot-delivery' } } });
    expect(toInternal.from.every((f: any) => f.podSelector || f.namespaceSelector)).toBe(true);
  });

  it('scales autopilot-delivery on the lag of its group, at most one replica per partition', () => {
    const scaled = find(objects, 'ScaledObject', 'autopilot-delivery');
    const deployment = find(objects, 'Deployment', 'autopilot-delivery');
    const configMap = find(objects, 'ConfigMap', 'segment-export-config');
    expect(scaled?.spec.scaleTargetRef.name).toBe(deployment?.metadata.name);
    expect(scaled?.spec.maxReplicaCount).toBe(TOPICS.contactsMapped.partitions);
    expect(scaled?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    // Replicas belong to the autoscaler: a re-apply of the Deployment must not reset them.
    expect(deployment?.spec.replicas).toBeUndefined();
    const trigger = scaled?.spec.triggers.find((t: any) => t.type === 'kafka');
    const groupId = deployment?.spec.template.spec.containers[0].env.find((e: any) => e.name === 'KAFKA_GROUP_ID').value;
    expect(trigger).toMatchObject({
      type: 'kafka',
      metadata: {
        consumerGroup: groupId,
        topic: TOPICS.contactsMapped.name,
        bootstrapServers: configMap?.data.KAFKA_BROKERS,
        allowIdleConsumers: 'false',
      },
    });
  });

  it('scales autopilot-delivery on the runs ready to send in the ledger, one replica per DELIVERY_MAX_RUNS', () => {
    const scaled = find(objects, 'ScaledObject', 'autopilot-delivery');
    const trigger = scaled?.spec.triggers.find((t: any) => t.type === 'prometheus');
    // Every replica exports the ledger's figure: the query takes max() per state, never sum() over pods.
    expect(trigger?.metadata.query).toBe(
      'sum(max by (run_state) (autopilot_delivery_backlog_runs{run_state=~"waiting|leased"}))',
    );
    const maxRuns = find(objects, 'ConfigMap', 'segment-export-config')?.data.DELIVERY_MAX_RUNS ?? '16';
    expect(trigger?.metadata.threshold).toBe(maxRuns);
  });

  if (kustomization === 'overlays/local') {
    it('uses development secrets only, and the simulator instead of Autopilot', () => {
      const secret = find(objects, 'Secret', 'segment-export-secrets');
      const decoded = Object.fromEntries(
        Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]),
      );
      expect(decoded['AUTH_JWT_SECRET']).toMatch(/^dev-only-/);
      expect(decoded['INTERNAL_AUTH_SECRET']).toMatch(/^dev-only-/);
      expect(decoded['CREDENTIALS_ENCRYPTION_KEY']).toMatch(/^dev-only-/);
      expect(find(objects, 'ConfigMap', 'segment-export-config')?.data).toMatchObject({
        NODE_ENV: 'development',
        AUTOPILOT_BASE_URL: 'http://autopilot-simulator:8089/v1',
      });
      expect(find(objects, 'Deployment', 'autopilot-simulator')).toBeDefined();
      for (const o of objects) if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('segment-export');
    });
  } else {
    it('ships no Secret and no simulator', () => {
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
      expect(find(objects, 'Deployment', 'autopilot-simulator')).toBeUndefined();
      expect(find(objects, 'ConfigMap', 'segment-export-config')?.data.NODE_ENV).toBe('production');
    });
  }
});

describe('the validator', () => {
  it('rejects an object that breaks its schema', () => {
    const broken = [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two' } }];
    const result = spawnSync(process.execPath, [join(ROOT, 'deploy', 'scripts', 'validate-k8s.mjs')], {
      input: JSON.stringify(broken),
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect((JSON.parse(result.stdout) as string[]).join('\n')).toContain('replicas must be integer');
  });
});

// The README documents these numbers; keep it honest when they change.
describe('deploy/k8s/README.md', () => {
  it('states the partition cap the ScaledObject uses', () => {
    const readme = readFileSync(join(dirname(K8S), 'k8s', 'README.md'), 'utf8');
    expect(readme).toContain(`${TOPICS.contactsMapped.partitions} partitions`);
  });
});
