import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { PassThrough } from 'node:stream';
import { ApiError, CliError, type Api } from './api-client';
import { runCli } from './cli';
import { DEV_JWT_SECRET } from './token';

interface Call {
  method: string;
  path: string;
  body?: unknown;
}

function harness(answers: (call: Call) => unknown = () => ({})) {
  const calls: Call[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const apis: { url: string; token?: string }[] = [];
  const api: Api = {
    request: async <T>(method: string, path: string, body?: unknown) => {
      const call = { method, path, ...(body === undefined ? {} : { body }) };
      calls.push(call);
      const answer = answers(call);
      if (answer instanceof Error) throw answer;
      return answer as T;
    },
  };
  const files: Record<string, string> = {};
  const run = (...argv: string[]) =>
    runCli(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      createApi: (url, token) => {
        apis.push({ url, token });
        return api;
      },
      readFile: (path) => {
        if (!(path in files)) throw new Error(`ENOENT: no such file ${path}`);
        return files[path];
      },
      progressStream: new PassThrough(),
      sleep: async () => undefined,
    });
  return { run, calls, out, err, apis, files };
}

const run = (status: string, delivered = 0, eligible = 10) => ({
  id: 'r1',
  status,
  counts: {
    delivered,
    eligible,
    extracted: 12,
    rejected: 2,
    failed: 0,
    overLimit: 0,
    overQuota: 0,
    duplicates: 0,
  },
});

describe('export-cli', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const verified = async (token: string, secret: string) =>
    (await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] })).payload;

  it('mints a development user token with an exp, with the development secret by default', async () => {
    delete process.env['AUTH_JWT_SECRET'];
    delete process.env['AUTH_AUDIENCE'];
    process.env['NODE_ENV'] = 'development';
    const h = harness();
    expect(await h.run('token', '--tenant', 'contoso', '--role', 'admin', '--sub', 'alice')).toBe(0);
    const claims = await verified(h.out[0], DEV_JWT_SECRET);
    expect(claims).toMatchObject({ sub: 'alice', tid: 'contoso', role: 'admin' });
    expect(claims.aud).toBeUndefined();
    expect(Number(claims.exp) - Number(claims.iat)).toBe(8 * 3600);
    expect(
      await h.run(
        'token',
        '--tenant',
        'contoso',
        '--role',
        'operator',
        '--secret',
        's'.repeat(32),
        '--expires-in',
        '15m',
      ),
    ).toBe(0);
    const short = await verified(h.out[1], 's'.repeat(32));
    expect(Number(short.exp) - Number(short.iat)).toBe(15 * 60);
    process.env['AUTH_AUDIENCE'] = 'segment-export';
    expect(await h.run('token', '--tenant', 'contoso', '--role', 'admin')).toBe(0);
    expect(decodeJwt(h.out[2]).aud).toBe('segment-export');
  });

  it('works only with NODE_ENV=development set explicitly', async () => {
    for (const nodeEnv of [undefined, 'test', 'production', 'Development']) {
      if (nodeEnv === undefined) delete process.env['NODE_ENV'];
      else process.env['NODE_ENV'] = nodeEnv;
      const h = harness();
      expect(await h.run('token', '--tenant', 'contoso', '--role', 'admin')).toBe(1);
      expect(h.out).toEqual([]);
      expect(h.err.at(-1)).toBe(
        'Error: `token` mints development tokens only and needs NODE_ENV=development; ' +
          'otherwise pass your access token from the identity provider with --token or EXPORT_API_TOKEN',
      );
    }
  });

  it('never mints service credentials, and refuses unknown roles and lifetimes', async () => {
    process.env['NODE_ENV'] = 'development';
    const h = harness();
    expect(await h.run('token', '--role', 'service', '--sub', 'autopilot-delivery')).toBe(1);
    expect(await h.run('token', '--role', 'service', '--tenant', 'contoso')).toBe(1);
    expect(h.err).toEqual([
      'Error: `token` never mints service credentials: services have their own credential',
      'Error: `token` never mints service credentials: services have their own credential',
    ]);
    expect(await h.run('token', '--tenant', 'x', '--role', 'root')).toBe(1);
    expect(h.err.at(-1)).toBe('Error: --role must be one of admin, contributor, operator');
    expect(await h.run('token', '--role', 'admin')).toBe(1);
    expect(h.err.at(-1)).toBe('Error: --tenant is required');
    expect(await h.run('token', '--tenant', 'x', '--role', 'admin', '--expires-in', '0')).toBe(1);
    expect(h.err.at(-1)).toBe('Error: --expires-in must look like 300, 15m, 8h or 7d');
    expect(h.out).toEqual([]);
  });

  it('takes the API URL and token from flags or from the environment', async () => {
    const h = harness(() => []);
    await h.run('--api', 'http://cp:3000', '--token', 'tok', 'connections', 'list');
    process.env['EXPORT_API_URL'] = 'http://env:3000';
    process.env['EXPORT_API_TOKEN'] = 'env-token';
    await h.run('connections', 'list');
    expect(h.apis).toEqual([
      { url: 'http://cp:3000', token: 'tok' },
      { url: 'http://env:3000', token: 'env-token' },
    ]);
    expect(h.calls).toEqual([
      { method: 'GET', path: '/v1/connections' },
      { method: 'GET', path: '/v1/connections' },
    ]);
  });

  it('prints lists as aligned tables, or JSON with --json', async () => {
    const rows = [
      {
        id: 'c1',
        displayName: 'EU',
        status: 'active',
        allowContributors: false,
        apiKeyLast4: 'abcd',
        exportUsers: ['alice', 'bob'],
      },
      {
        id: 'c22',
        displayName: 'US',
        status: 'needs-attention',
        allowContributors: true,
        apiKeyLast4: 'wxyz',
        exportUsers: [],
      },
    ];
    const h = harness(() => rows);
    await h.run('connections', 'list');
    expect(h.out[0].split('\n')).toEqual([
      'ID   DISPLAYNAME  STATUS           ALLOWCONTRIBUTORS  APIKEYLAST4  EXPORTUSERS',
      'c1   EU           active           false              abcd         alice,bob',
      'c22  US           needs-attention  true               wxyz',
    ]);
    await h.run('--json', 'connections', 'list');
    expect(JSON.parse(h.out[1])).toEqual(rows);
  });

  it('creates a connection only with the privacy notice accepted', async () => {
    const h = harness(() => ({ id: 'c1' }));
    expect(await h.run('connections', 'create', '--name', 'EU', '--api-key', 'k-123456789')).toBe(1);
    expect(h.err[0]).toContain('--accept-privacy-notice');
    expect(h.calls).toEqual([]);
    expect(
      await h.run(
        'connections',
        'create',
        '--name',
        'EU',
        '--api-key',
        'k-123456789',
        '--accept-privacy-notice',
        '--add-me',
      ),
    ).toBe(0);
    expect(h.calls[0]).toEqual({
      method: 'POST',
      path: '/v1/connections',
      body: {
        displayName: 'EU',
        apiKey: 'k-123456789',
        allowContributors: false,
        privacyConsent: true,
        addMeAsExportUser: true,
      },
    });
  });

  it('deletes with --detach', async () => {
    const h = harness(() => ({ detachedExports: 2 }));
    await h.run('connections', 'delete', 'c1', '--detach');
    expect(h.calls[0]).toEqual({ method: 'DELETE', path: '/v1/connections/c1?detach=true' });
  });

  it('builds an export from a file and flags (flags win)', async () => {
    const h = harness(() => ({ id: 'e1' }));
    h.files['export.json'] = JSON.stringify({
      name: 'From file',
      connectionId: 'c1',
      segmentIds: ['a'],
      mapping: { email: 'Mail', firstName: 'First' },
      listNames: { a: 'List A' },
    });
    const code = await h.run(
      'exports', 'create', '--file', 'export.json', '--segments', 'a, b', '--email', 'EMail',
      '--custom', 'Tier:Loyalty Tier:string', '--custom', 'Age:Age:integer', '--list-name', 'b=List B', '--profile-limit', '500',
    ); // prettier-ignore
    expect(code).toBe(0);
    expect(h.calls[0].body).toEqual({
      name: 'From file',
      connectionId: 'c1',
      segmentIds: ['a', 'b'],
      mapping: {
        email: 'EMail',
        firstName: 'First',
        custom: [
          { attribute: 'Tier', field: 'Loyalty Tier', type: 'string' },
          { attribute: 'Age', field: 'Age', type: 'integer' },
        ],
      },
      listNames: { a: 'List A', b: 'List B' },
      profileLimit: 500,
    });
  });

  it('explains what an export needs, and bad custom fields', async () => {
    const h = harness();
    expect(await h.run('exports', 'create', '--name', 'x')).toBe(1);
    expect(h.err[0]).toBe(
      'Error: an export needs --name, --connection, --segments and --email (or a --file that has them)',
    );
    expect(await h.run('exports', 'create', '--file', 'missing.json')).toBe(1);
    expect(h.err[1]).toContain('cannot read missing.json');
    expect(
      await h.run(
        'exports',
        'create',
        '--name',
        'x',
        '--connection',
        'c',
        '--segments',
        's',
        '--email',
        'e',
        '--custom',
        'A:B:money',
      ),
    ).toBe(1);
    expect(h.err[2]).toContain('--custom must be');
    expect(h.calls).toEqual([]);
  });

  it('prints API errors clearly, with the field at fault, and exits 1', async () => {
    const h = harness(
      () =>
        new ApiError(400, {
          error: 'Bad Request',
          message: 'mapping.email: Invalid input',
          field: 'mapping.email',
        }),
    );
    expect(
      await h.run('exports', 'create', '--name', 'x', '--connection', 'c', '--segments', 's', '--email', ' '),
    ).toBe(1);
    expect(h.err[0]).toBe('Error: HTTP 400 Bad Request: mapping.email: Invalid input (field: mapping.email)');
    const unauth = harness(
      () => new ApiError(401, { error: 'Unauthorized', message: 'Missing bearer token' }),
    );
    await unauth.run('exports', 'list');
    expect(unauth.err[0]).toContain('pass your access token with --token or EXPORT_API_TOKEN');
    const down = harness(() => new CliError('cannot reach the API at http://127.0.0.1:3000 (ECONNREFUSED)'));
    await down.run('exports', 'list');
    expect(down.err[0]).toBe('Error: cannot reach the API at http://127.0.0.1:3000 (ECONNREFUSED)');
  });

  it('runs an export and watches it: exit 0 when it succeeds', async () => {
    const states = [run('running', 0), run('running', 5), run('succeeded', 10)];
    const h = harness((call) =>
      call.method === 'POST' ? { runId: 'r1', status: 'queued' } : states.shift(),
    );
    expect(await h.run('exports', 'run', 'e1', '--watch', '--interval', '100')).toBe(0);
    expect(h.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v1/exports/e1/runs',
      'GET /v1/runs/r1',
      'GET /v1/runs/r1',
      'GET /v1/runs/r1',
    ]);
    expect(h.out.at(-1)).toBe(
      'run r1 succeeded: delivered 10/10, extracted 12, rejected 2, failed 0, over limit 0, over quota 0',
    );
  });

  it('asks for a dry run, a full resync or confirmed removals; shows and watches phases and the diff counts', async () => {
    const phased = (phase: string, done: number, total: number, status = 'running') => ({
      ...run(status, 3, 10),
      dryRun: true,
      phase,
      progress: { done, total },
      counts: { ...run(status, 3, 10).counts, added: 2, updated: 1, unchanged: 7, removed: 1 },
    });
    const states = [phased('extracting', 0, 0), phased('sending', 1, 3), phased('removing', 1, 1), phased('finished', 1, 1, 'succeeded')];
    const h = harness((call) => (call.method === 'POST' ? { runId: 'r1', status: 'queued' } : states.shift() ?? phased('finished', 1, 1, 'succeeded')));
    expect(await h.run('exports', 'run', 'e1', '--dry-run', '--confirm-removals', '--watch', '--interval', '100')).toBe(0);
    expect(h.calls[0]).toEqual({ method: 'POST', path: '/v1/exports/e1/runs', body: { dryRun: true, confirmRemovals: true } });
    expect(h.out.at(-1)).toBe(
      'run r1 succeeded [dry run: nothing was sent or changed; counts are what a run would do]: delivered 3/10 ' +
        '(added 2, updated 1, unchanged 7), removed 1, extracted 12, rejected 2, failed 0, over limit 0, over quota 0',
    );
    await h.run('exports', 'run', 'e1', '--full-resync');
    expect(h.calls.at(-1)).toEqual({ method: 'POST', path: '/v1/exports/e1/runs', body: { fullResync: true } });
    await h.run('exports', 'run', 'e1');
    expect(h.calls.at(-1)).toEqual({ method: 'POST', path: '/v1/exports/e1/runs', body: {} });

    const show = harness(() => phased('sending', 300, 1000));
    expect(await show.run('runs', 'show', 'r1')).toBe(0);
    expect(show.out[0]).toBe('phase sending 300/1000');
    expect(show.out[1]).toContain('delivered 3/10 (added 2, updated 1, unchanged 7), removed 1');
    const listed = harness(() => [phased('removing', 1, 2)]);
    await listed.run('runs', 'list', '--export', 'e1');
    expect(listed.out[0].split('\n')[0]).toMatch(/^ID +STATUS +PHASE +DRYRUN +TRIGGER +QUEUEDAT +COUNTS\.ADDED +COUNTS\.UPDATED +COUNTS\.UNCHANGED +COUNTS\.REMOVED/);
    expect(listed.out[0].split('\n')[1]).toMatch(/^r1 +running +removing +true/);
  });

  it('creates an export with a sync mode and a mass-removal share', async () => {
    const h = harness(() => ({ id: 'e1' }));
    const flags = ['exports', 'create', '--name', 'x', '--connection', 'c', '--segments', 's', '--email', 'EMail'];
    await h.run(...flags, '--sync-mode', 'upsert', '--mass-removal-percent', '10');
    expect(h.calls[0].body).toMatchObject({ syncMode: 'upsert', massRemovalPercent: 10 });
    expect(await h.run(...flags, '--sync-mode', 'replace')).toBe(1);
    expect(await h.run(...flags, '--mass-removal-percent', 'lots')).toBe(1);
    expect(h.err.at(-1)).toBe('Error: --mass-removal-percent must be an integer, got "lots"');
  });

  it('watch exits non-zero unless the run succeeded, and says why', async () => {
    const h = harness(() => ({
      ...run('skipped'),
      reason: 'QUOTA_EXCEEDED',
      message: 'quota of 10 reached',
    }));
    expect(await h.run('runs', 'watch', 'r1')).toBe(2);
    expect(h.out[0]).toContain('run r1 skipped (QUOTA_EXCEEDED: quota of 10 reached)');
  });

  it('lists runs of an export, pages rejections and cancels', async () => {
    const h = harness((call) =>
      call.path.includes('rejections')
        ? {
            items: [{ segmentId: 's', partition: 'p', line: 3, stage: 'mapping', reason: 'bad email' }],
            nextCursor: 'abc',
          }
        : [],
    );
    await h.run('runs', 'list', '--export', 'e1');
    await h.run('runs', 'rejections', 'r1', '--limit', '1', '--cursor', 'xyz');
    await h.run('runs', 'cancel', 'r1');
    expect(h.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /v1/exports/e1/runs',
      'GET /v1/runs/r1/rejections?limit=1&cursor=xyz',
      'POST /v1/runs/r1/cancel',
    ]);
    expect(h.out).toContain('next page: --cursor abc');
    expect(await h.run('runs', 'list')).not.toBe(0);
    expect(h.err.join('\n')).toContain("required option '--export <exportId>' not specified");
  });

  it("reads and sets quotas, defaulting to the token's tenant", async () => {
    const token = await new SignJWT({ tid: 'contoso', role: 'operator' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const h = harness(() => ({}));
    await h.run('--token', token, 'quota', 'get');
    await h.run('--token', token, 'quota', 'set', '--tenant', 'fabrikam', '--profiles-per-month', '5000');
    expect(h.calls).toEqual([
      { method: 'GET', path: '/v1/tenants/contoso/quota' },
      { method: 'PUT', path: '/v1/tenants/fabrikam/quota', body: { profilesPerMonth: 5000 } },
    ]);
    expect(await h.run('--token', token, 'quota', 'set', '--profiles-per-month', 'lots')).toBe(1);
    expect(h.err.at(-1)).toBe('Error: --profiles-per-month must be a whole number >= 0');
  });
});
