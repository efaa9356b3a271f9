import { classifyPath, servedOn, type PathClass } from './internal-listener';

describe('listener routing', () => {
  it.each([
    ['/internal/v1/connections/x/credentials', 'internal'],
    ['/INTERNAL/v1/runs/x', 'internal'],
    ['//internal/v1/runs/x', 'internal'],
    ['/%69nternal/v1/runs/x', 'internal'],
    ['/internal', 'internal'],
    ['/metrics', 'metrics'],
    ['/docs', 'docs'],
    ['/docs-json', 'docs'],
    ['/docs/swagger-ui.css', 'docs'],
    ['/healthz', 'probe'],
    ['/readyz', 'probe'],
    ['/v1/connections', 'public'],
    ['/', 'public'],
    ['/internals', 'public'],
    ['/%E0%A4%A', 'public'],
  ])('classifies %s as %s', (path, kind) => {
    expect(classifyPath(path)).toBe(kind);
  });

  const table = (metricsOnInternal: boolean, docsOnInternal: boolean) =>
    Object.fromEntries(
      (['internal', 'metrics', 'docs', 'probe', 'public'] as PathClass[]).map((kind) => [
        kind,
        {
          public: servedOn(kind, { metricsOnInternal, docsOnInternal }, false),
          internal: servedOn(kind, { metricsOnInternal, docsOnInternal }, true),
        },
      ]),
    );

  it('by default: /internal/* only internally, the API, /metrics and /docs only publicly, probes on both', () => {
    expect(table(false, false)).toEqual({
      internal: { public: false, internal: true },
      metrics: { public: true, internal: false },
      docs: { public: true, internal: false },
      probe: { public: true, internal: true },
      public: { public: true, internal: false },
    });
  });

  it('METRICS_ON_INTERNAL and DOCS_ON_INTERNAL move /metrics and /docs to the internal listener', () => {
    expect(table(true, true)).toMatchObject({
      metrics: { public: false, internal: true },
      docs: { public: false, internal: true },
    });
    expect(table(true, false)).toMatchObject({ docs: { public: true, internal: false } });
  });
});
