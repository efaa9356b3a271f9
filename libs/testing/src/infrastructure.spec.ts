import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerAnswers, dockerEndpoints, planInfrastructure } from './infrastructure';

describe('planInfrastructure', () => {
  it('without Docker: the local broker, PostgreSQL and Redis, as before', () => {
    expect(planInfrastructure({}, false)).toEqual({ kafka: 'local', postgres: 'local', redis: 'local' });
  });

  it('with Docker and nothing set: a container for each', () => {
    expect(planInfrastructure({}, true)).toEqual({
      kafka: 'container',
      postgres: 'container',
      redis: 'container',
    });
  });

  it('a variable that names a resource wins over Docker, one resource at a time', () => {
    expect(planInfrastructure({ KAFKA_BROKERS: '127.0.0.1:19292' }, true)).toEqual({
      kafka: 'given',
      postgres: 'container',
      redis: 'container',
    });
    expect(
      planInfrastructure({ DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis://r:6379' }, true),
    ).toEqual({
      kafka: 'container',
      postgres: 'given',
      redis: 'given',
    });
    expect(
      planInfrastructure({ TEST_ADMIN_DATABASE_URL: 'postgres://db/postgres', KAFKA_BROKERS: '' }, false),
    ).toEqual({
      kafka: 'local',
      postgres: 'given',
      redis: 'local',
    });
  });
});

describe('dockerAnswers', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  const listen = (handler: Parameters<typeof createServer>[1]) => {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'docker-')), 'docker.sock');
    const server = createServer(handler);
    servers.push(server);
    return new Promise<string>((resolve) => server.listen(socketPath, () => resolve(socketPath)));
  };

  it('is no, at once, when no socket exists (a Docker client without an engine)', async () => {
    const tried: string[] = [];
    const answer = await dockerAnswers(
      { XDG_RUNTIME_DIR: '/run/user/1000' },
      {
        socketExists: (path) => {
          tried.push(path);
          return false;
        },
      },
    );
    expect(answer).toBe(false);
    expect(tried).toEqual(expect.arrayContaining(['/var/run/docker.sock', '/run/user/1000/docker.sock']));
  });

  it('is yes when the engine at DOCKER_HOST answers its ping', async () => {
    const socketPath = await listen((req, res) => res.end(req.url === '/_ping' ? 'OK' : 'no'));
    expect(await dockerAnswers({ DOCKER_HOST: `unix://${socketPath}` })).toBe(true);
  });

  it('is no when the socket exists but nothing sensible answers, or nothing answers in time', async () => {
    const refusing = await listen((_req, res) => {
      res.statusCode = 500;
      res.end('Internal Server Error');
    });
    expect(await dockerAnswers({ DOCKER_HOST: `unix://${refusing}` })).toBe(false);
    const silent = await listen(() => undefined);
    expect(await dockerAnswers({ DOCKER_HOST: `unix://${silent}` }, { timeoutMs: 200 })).toBe(false);
    expect(await dockerAnswers({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' })).toBe(false);
  });

  it('reads DOCKER_HOST as a unix socket or a tcp address; the usual sockets otherwise', () => {
    expect(dockerEndpoints({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toEqual([
      { host: '127.0.0.1', port: 2375 },
    ]);
    expect(dockerEndpoints({ DOCKER_HOST: 'ssh://me@host' })).toEqual([]);
    expect(dockerEndpoints({})[0]).toEqual({ socketPath: '/var/run/docker.sock' });
  });
});
