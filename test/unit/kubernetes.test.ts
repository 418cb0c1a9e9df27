/**
 * The Kubernetes manifests, offline: each one validates against the Kubernetes API schemas (kubernetes-models),
 * and they agree with the code: probe paths, ports, the shutdown timings, and a ConfigMap and Secret that together
 * form a production configuration `loadConfig` accepts, naming only variables it reads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_PORT } from '../../src/defaults.js';
import { ENVIRONMENT_VARIABLES } from '../../src/environment.js';
import { HEALTH_PATH, READY_PATH } from '../../src/http/gateway.js';

const folder = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
const MODELS = {
  ConfigMap,
  Secret,
  Service,
  ServiceAccount,
  Deployment,
  HorizontalPodAutoscaler,
  NetworkPolicy,
  PodDisruptionBudget,
} as const;

interface Manifest {
  readonly apiVersion: string;
  readonly kind: keyof typeof MODELS;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

let manifests: Manifest[];
const one = <T>(kind: keyof typeof MODELS) => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found).toHaveLength(1);
  return found[0] as unknown as T;
};

beforeAll(async () => {
  const kustomization = parseYaml(await readFile(join(folder, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };
  manifests = [];
  for (const file of kustomization.resources) {
    for (const document of parseAllDocuments(await readFile(join(folder, file), 'utf8'))) {
      manifests.push(document.toJS() as Manifest);
    }
  }
});

describe('deploy/kubernetes', () => {
  it('holds one valid object of each kind the deployment needs', () => {
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(Object.keys(MODELS).sort());
    for (const manifest of manifests) {
      const Model = MODELS[manifest.kind];
      expect(Model, manifest.kind).toBeDefined();
      // Throws with the schema's complaint on a wrong type or a missing required field. (Unknown fields are the
      // API server's to refuse: `kubectl apply --dry-run=server` in the deploy pipeline.)
      expect(
        () => new Model(manifest as never).validate(),
        `${manifest.kind} ${manifest.metadata.name}`,
      ).not.toThrow();
    }
  });

  it('would catch a mistake: a wrong type or a missing required field fails validation', () => {
    const deployment = one<Record<string, unknown>>('Deployment');
    const wrongType = structuredClone(deployment) as { spec: { replicas: unknown } };
    wrongType.spec.replicas = 'two';
    expect(() => new Deployment(wrongType as never).validate()).toThrow();
    const unnamed = structuredClone(deployment) as unknown as DeploymentShape;
    delete (unnamed.spec.template.spec.containers[0] as { name?: string }).name;
    expect(() => new Deployment(unnamed as never).validate()).toThrow();
  });

  it('probes the paths the gateway serves, on the ports it listens on', () => {
    const deployment = one<DeploymentShape>('Deployment');
    const container = deployment.spec.template.spec.containers[0];
    const ports = Object.fromEntries(container.ports.map((port) => [port.name, port.containerPort]));
    expect(container.readinessProbe.httpGet).toEqual({ path: READY_PATH, port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: HEALTH_PATH, port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: HEALTH_PATH, port: 'http' });
    const env = environment();
    expect(ports['http']).toBe(Number(env['PORT'] ?? DEFAULT_PORT));
    expect(ports['metrics']).toBe(Number(env['METRICS_PORT']));
    const service = one<{ spec: { ports: Array<{ name: string; targetPort: string }> } }>('Service');
    for (const port of service.spec.ports) expect(ports[port.targetPort], port.name).toBeDefined();
  });

  it('gives a replica the time its drain takes before Kubernetes kills it', () => {
    const deployment = one<DeploymentShape>('Deployment');
    const pod = deployment.spec.template.spec;
    const preStop = pod.containers[0].lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const config = loaded();
    const needed = Number(preStop[1]) * 1000 + config.http.shutdownDelayMs + config.http.shutdownTimeoutMs;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(needed);
  });

  it('runs locked down: non-root, read-only root filesystem, no service-account token, bounded memory', () => {
    const deployment = one<DeploymentShape>('Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(
      one<{ automountServiceAccountToken: boolean }>('ServiceAccount').automountServiceAccountToken,
    ).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests['cpu']).toBeDefined();
    expect(container.resources.limits['memory']).toBeDefined();
  });

  it('takes configuration from the ConfigMap and secrets from the Secret, forming a valid production configuration', () => {
    const container = one<DeploymentShape>('Deployment').spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([
      { configMapRef: { name: one<Manifest>('ConfigMap').metadata.name } },
      { secretRef: { name: one<Manifest>('Secret').metadata.name } },
    ]);
    for (const name of Object.keys(environment())) {
      if (name.startsWith('OTEL_') && !ENVIRONMENT_VARIABLES.includes(name)) continue; // read by the SDK
      expect(ENVIRONMENT_VARIABLES, name).toContain(name);
    }
    // Credentials and shared secrets live in the Secret only.
    const configMap = one<{ data: Record<string, string> }>('ConfigMap');
    for (const secret of [
      'TENCENTCLOUD_SECRET_ID',
      'TENCENTCLOUD_SECRET_KEY',
      'ROUTER_SECRET',
      'CURSOR_SECRET',
    ]) {
      expect(Object.keys(configMap.data)).not.toContain(secret);
    }
    const config = loaded();
    expect(config).toMatchObject({
      mode: 'upstream',
      production: true,
      telemetry: { tracing: { protocol: 'http/protobuf' } },
    });
    expect(config.auth.routerSecret).toBeDefined();
  });

  it('scales, and keeps a replica through disruptions, selecting the pods the Deployment makes', () => {
    const deployment = one<DeploymentShape>('Deployment');
    const labels = deployment.spec.template.metadata.labels;
    const hpa = one<{ spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(
      'HorizontalPodAutoscaler',
    );
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = one<{ spec: { selector: { matchLabels: Record<string, string> }; minAvailable: number } }>(
      'PodDisruptionBudget',
    );
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    const service = one<{ spec: { selector: Record<string, string> } }>('Service');
    expect(labels).toMatchObject(service.spec.selector);
  });

  it('admits only the router and the ingress controller (CI’s callbacks) to GraphQL, and only monitoring to metrics', () => {
    const policy = one<{
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress: Array<{
          from: Array<{ namespaceSelector: { matchLabels: Record<string, string> } }>;
          ports: Array<{ port: string }>;
        }>;
      };
    }>('NetworkPolicy');
    expect(one<DeploymentShape>('Deployment').spec.template.metadata.labels).toMatchObject(
      policy.spec.podSelector.matchLabels,
    );
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(
      policy.spec.ingress.map((rule) => [
        rule.from.map((peer) => peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']),
        rule.ports.map((port) => port.port),
      ]),
    ).toEqual([
      [['router', 'ingress-nginx'], ['http']],
      [['monitoring'], ['metrics']],
    ]);
  });
});

interface DeploymentShape {
  metadata: { name: string };
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        automountServiceAccountToken: boolean;
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot: boolean };
        containers: [
          {
            name: string;
            ports: Array<{ name: string; containerPort: number }>;
            env: Array<{ name: string; value: string }>;
            envFrom: unknown[];
            readinessProbe: { httpGet: unknown };
            livenessProbe: { httpGet: unknown };
            startupProbe: { httpGet: unknown };
            lifecycle: { preStop: { exec: { command: string[] } } };
            securityContext: Record<string, unknown>;
            resources: { requests: Record<string, string>; limits: Record<string, string> };
          },
        ];
      };
    };
  };
}

/** What the container's environment is: the ConfigMap, the Secret, the explicit env and the image's own. */
function environment(): Record<string, string> {
  const container = one<DeploymentShape>('Deployment').spec.template.spec.containers[0];
  return {
    NODE_ENV: 'production',
    ...one<{ data: Record<string, string> }>('ConfigMap').data,
    ...one<{ stringData: Record<string, string> }>('Secret').stringData,
    ...Object.fromEntries(container.env.map((variable) => [variable.name, variable.value])),
  };
}

function loaded() {
  const result = loadConfig(environment());
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}
