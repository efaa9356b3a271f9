// Validates Kubernetes objects against the OpenAPI schemas bundled in kubernetes-models (and KEDA's CRD
// schemas in @kubernetes-models/keda): offline, no cluster needed. Reads a JSON array of objects on stdin
// (deploy/test/manifests.spec.ts renders the kustomizations and sends them), prints a JSON array of
// problems ("<kind>/<name>: <error>") and exits 1 when there is any. ESM because these packages are ESM-only.
const MODELS = {
  'keda.sh/v1alpha1': (kind) => `@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`,
};
const modulePath = ({ apiVersion, kind }) =>
  MODELS[apiVersion]?.(kind) ?? `kubernetes-models/${apiVersion.includes('/') ? apiVersion : `v1`}/${kind}`;

const input = await new Promise((resolve, reject) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => (text += chunk));
  process.stdin.on('end', () => resolve(text));
  process.stdin.on('error', reject);
});

const problems = [];
for (const object of JSON.parse(input)) {
  const id = `${object?.kind}/${object?.metadata?.name}`;
  if (object?.apiVersion === 'v1' || object?.apiVersion?.includes('/')) {
    let Model;
    try {
      Model = (await import(modulePath(object)))[object.kind];
    } catch {
      problems.push(`${id}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    // kustomize wraps long base64 values over lines; the API server's base64 decoding skips line breaks.
    if (object.kind === 'Secret' && object.data)
      for (const key of Object.keys(object.data)) object.data[key] = String(object.data[key]).replace(/[\r\n]/g, '');
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else problems.push(`${id}: missing or malformed apiVersion`);
}
process.stdout.write(JSON.stringify(problems));
process.exit(problems.length ? 1 : 0);
