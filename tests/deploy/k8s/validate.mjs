// Validates deploy/k8s/*.yaml: every document against its Kubernetes (or prometheus-operator)
// schema with kubernetes-models (ajv underneath; it checks types, required fields and formats,
// not unknown keys), then what the gateway needs of them: a buffer volume per pod at the config's
// data_dir, the config from the ConfigMap passing `edgegw check-config`, every ${VAR} it names
// provided (pod env or the documented Secret), metrics on 0.0.0.0 behind the Service and the
// ServiceMonitor, probes on /readyz and /healthz, a grace period above shutdown_timeout.
//   node validate.mjs DEPLOY_K8S_DIR EDGEGW_BINARY
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, parse } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { Secret } from "kubernetes-models/v1/Secret";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const [dir, edgegw] = process.argv.slice(2);
if (!dir || !edgegw) {
  console.error("usage: node validate.mjs DEPLOY_K8S_DIR EDGEGW_BINARY");
  process.exit(2);
}
const models = {
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/Secret": Secret,
  "apps/v1/StatefulSet": StatefulSet,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

let failures = 0;
let checks = 0;
const check = (ok, what) => {
  checks++;
  if (!ok) {
    failures++;
    console.error(`FAIL: ${what}`);
  }
};

// 1. Every document against its schema.
const objects = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
    if (doc.errors.length) {
      check(false, `${file}: YAML: ${doc.errors[0].message}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    const key = `${obj.apiVersion}/${obj.kind}`;
    const Model = models[key];
    check(Model !== undefined, `${file}: no schema known for ${key}`);
    if (!Model) continue;
    try {
      new Model(obj).validate();
      checks++;
    } catch (e) {
      check(false, `${file}: ${key} ${obj.metadata?.name}: ${e.message}`);
    }
    objects.push({ file, obj });
  }
}
const find = (kind) => objects.find((o) => o.obj.kind === kind)?.obj;
const sts = find("StatefulSet");
const cm = find("ConfigMap");
const svc = find("Service");
const sm = find("ServiceMonitor");
for (const [name, obj] of Object.entries({ StatefulSet: sts, ConfigMap: cm, Service: svc, ServiceMonitor: sm })) {
  check(obj !== undefined, `a ${name} in ${dir}`);
}
if (failures) process.exit(1);

// 2. What the gateway needs.
const pod = sts.spec.template.spec;
const container = pod.containers.find((c) => c.name === "edgegw");
check(container !== undefined, "StatefulSet: a container named edgegw");
const gatewayYaml = cm.data?.["gateway.yaml"];
check(typeof gatewayYaml === "string", "ConfigMap: data.gateway.yaml");
const config = parse(gatewayYaml.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, "x"));

// The buffer: one volume per pod (volumeClaimTemplates), mounted at gateway.data_dir.
const claim = sts.spec.volumeClaimTemplates?.[0]?.metadata?.name;
check(claim !== undefined, "StatefulSet: volumeClaimTemplates (a buffer volume per gateway)");
const bufferMount = container.volumeMounts.find((m) => m.name === claim);
check(bufferMount?.mountPath === config.gateway.data_dir,
      `buffer volume mounted at gateway.data_dir (${config.gateway.data_dir}), not ${bufferMount?.mountPath}`);
check(!pod.volumes?.some((v) => v.name === claim), "the buffer volume is not also a pod volume (it would shadow the claim)");

// The config: from the ConfigMap at the path the container runs with.
const configMount = container.volumeMounts.find((m) =>
  pod.volumes.some((v) => v.name === m.name && v.configMap?.name === cm.metadata.name));
check(configMount !== undefined, "ConfigMap mounted into the container");
const configPath = `${configMount?.mountPath}/gateway.yaml`;
check(JSON.stringify(container.args) === JSON.stringify(["run", "-c", configPath]),
      `container args run -c ${configPath}`);

// Every ${VAR}: from the pod's env, or a key of the Secret the pod reads (documented in the guide).
const guide = readFileSync(join(dir, "README.md"), "utf8");
const secretName = container.envFrom?.find((e) => e.secretRef)?.secretRef.name;
check(secretName !== undefined, "container envFrom a Secret (the tokens)");
const podEnv = new Set((container.env ?? []).map((e) => e.name));
const vars = [...new Set([...gatewayYaml.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]))];
const env = { ...process.env };
let n = 1;
for (const v of vars) {
  const inSecret = new RegExp(`create secret generic ${secretName}[^\\n]*(\\\\\\n[^\\n]*)*--from-literal=${v}=`).test(guide);
  check(podEnv.has(v) || inSecret, `\${${v}}: neither in the pod's env nor in the guide's Secret ${secretName}`);
  env[v] = v.endsWith("_TOKEN") ? `00000000-0000-4000-8000-${String(n++).padStart(12, "0")}` : `made-up-${v.toLowerCase()}`;
}

// edgegw check-config on the ConfigMap's config, as the pod would see it.
const tmp = mkdtempSync(join(tmpdir(), "edgegw-k8s-"));
try {
  const file = join(tmp, "gateway.yaml");
  writeFileSync(file, gatewayYaml, { mode: 0o600 });
  const out = execFileSync(edgegw, ["check-config", "-c", file], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  check(out.includes(": OK"), `check-config: ${out}`);
} catch (e) {
  check(false, `edgegw check-config on the ConfigMap's gateway.yaml: ${e.stderr ?? e.message}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// Metrics reachable from outside the pod, named port, Service and ServiceMonitor agree.
check(config.metrics.listen.startsWith("0.0.0.0:"), "metrics.listen on 0.0.0.0 (probes and Prometheus come from outside the pod)");
const metricsPort = Number(config.metrics.listen.split(":")[1]);
const portDef = container.ports.find((p) => p.containerPort === metricsPort);
check(portDef?.name !== undefined, `a named container port for ${metricsPort}`);
check(container.readinessProbe?.httpGet?.path === "/readyz" && container.readinessProbe.httpGet.port === portDef?.name, "readinessProbe: /readyz on the metrics port");
check(container.livenessProbe?.httpGet?.path === "/healthz" && container.livenessProbe.httpGet.port === portDef?.name, "livenessProbe: /healthz on the metrics port");
const podLabels = sts.spec.template.metadata.labels;
const selects = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
check(selects(sts.spec.selector.matchLabels, podLabels), "StatefulSet selector matches its pods");
check(sts.spec.serviceName === svc.metadata.name, "StatefulSet serviceName is the Service");
check(selects(svc.spec.selector, podLabels), "Service selects the gateway pods");
check(svc.spec.ports.some((p) => p.name === sm.spec.endpoints[0].port && (p.targetPort === portDef?.name || p.targetPort === metricsPort)),
      "ServiceMonitor endpoint port is the Service's metrics port");
check(selects(sm.spec.selector.matchLabels, svc.metadata.labels), "ServiceMonitor selects the Service");
check(sm.spec.endpoints[0].path === "/metrics", "ServiceMonitor scrapes /metrics");

// Shutdown: the kubelet's SIGKILL comes after the grace period; the gateway's own deadline first.
const seconds = (d) => Number(d.match(/^(\d+)s$/)?.[1] ?? NaN);
const shutdown = seconds(config.gateway.shutdown_timeout ?? "10s");
check(pod.terminationGracePeriodSeconds > shutdown, `terminationGracePeriodSeconds (${pod.terminationGracePeriodSeconds}) > gateway.shutdown_timeout (${shutdown}s)`);
// Non-root, as the image's user; the volume writable by it.
check(pod.securityContext?.runAsNonRoot === true && pod.securityContext?.fsGroup !== undefined, "runAsNonRoot with an fsGroup for the buffer volume");
// Several gateways share the broker's load: a shared subscription and a client id per pod.
const mqtt = config.sources.filter((s) => s.plugin === "mqtt");
check(mqtt.length > 0 && mqtt.every((s) => s.config.topics.every((t) => t.startsWith("$share/"))), "MQTT topics are shared subscriptions ($share/GROUP/...)");
check(mqtt.every((s) => gatewayYaml.includes("client_id: edgegw-${POD_NAME}") && s.config.clean_session === false), "a persistent session per pod (client_id from POD_NAME, clean_session false)");

if (failures) {
  console.error(`${failures} of ${checks} checks failed`);
  process.exit(1);
}
console.log(`deploy/k8s: ${objects.length} objects valid, ${checks} checks passed`);
