import { Command, CommanderError, Option } from 'commander';
import { TOPICS } from '@export/contracts';
import { CliError, type Api } from './api-client';
import {
  listDeadLetters,
  replayDeadLetters,
  type DeadLetterFilter,
  type DeadLetterTopic,
} from './dead-letters/dead-letters';
import type { EventPublisher } from './events/kafka-event-publisher';
import { checkSegmentRefreshed, SEGMENT_REFRESHED_TOPIC } from './events/segment-refreshed-file';
import { exportBody, type ExportFlags } from './export-body';
import { COLUMNS, formatError, phaseOf, runSummary, table, type RunLike } from './format';
import { DEV_JWT_SECRET, mintToken, ROLES, tenantOfToken, type TokenOptions } from './token';
import { watchRun } from './watch';

export interface CliDeps {
  out(text: string): void;
  err(text: string): void;
  createApi(baseUrl: string, token: string | undefined): Api;
  readFile(path: string): string;
  /** Where the progress bar is drawn (stderr, so stdout stays parseable). */
  progressStream: NodeJS.WritableStream;
  sleep?: (ms: number) => Promise<void>;
  /** The dead-letter topic on the broker (`dead-letters` commands; Kafka access, not the REST API). */
  openDeadLetters?(brokers: string[]): DeadLetterTopic;
  /** A producer on the broker with the services' TLS/SASL settings (`events publish`). */
  openPublisher?(brokers: string[]): EventPublisher;
}

interface DeadLetterOptions {
  brokers: string;
  topic: string;
  code?: string;
  sourceTopic?: string;
  key?: string;
  since?: string;
  offset?: string[];
}

interface RunFlags {
  watch: boolean;
  interval: string;
  dryRun: boolean;
  fullResync: boolean;
  confirmRemovals: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const id = (value: string) => encodeURIComponent(value);

/** Builds the command tree. Commands print results to `out`; the exit code is returned by runCli. */
export function buildProgram(deps: CliDeps, setExitCode: (code: number) => void): Command {
  const program = new Command('export-cli')
    .description('Command-line client of the segment export control plane')
    .addOption(
      new Option('--api <url>', 'API base URL').env('EXPORT_API_URL').default('http://127.0.0.1:3000'),
    )
    .addOption(
      new Option(
        '--token <jwt>',
        'your access token from the identity provider (in development: `export-cli token`)',
      ).env('EXPORT_API_TOKEN'),
    )
    .option('--json', 'print raw JSON instead of tables', false)
    .showHelpAfterError();

  const api = () => {
    const { api: url, token } = program.opts<{ api: string; token?: string }>();
    return deps.createApi(url, token);
  };
  const print = (value: unknown, columns?: readonly string[]) => {
    const asJson = program.opts<{ json: boolean }>().json;
    if (!asJson && columns && Array.isArray(value)) deps.out(value.length ? table(value, columns) : '(none)');
    else deps.out(JSON.stringify(value, null, 2));
  };

  program
    .command('token')
    .description(
      'mint a development user token (HS256 with AUTH_JWT_SECRET); only with NODE_ENV=development, never for services',
    )
    .option('--tenant <tenantId>', 'tenant id (tid claim)')
    .requiredOption('--role <role>', `role claim: ${ROLES.join(', ')}`)
    .option('--sub <user>', 'subject (user)', 'developer')
    .addOption(
      new Option('--secret <secret>', 'signing secret')
        .env('AUTH_JWT_SECRET')
        .default(DEV_JWT_SECRET, 'the development default'),
    )
    .addOption(new Option('--audience <aud>', 'aud claim, when the API checks one').env('AUTH_AUDIENCE'))
    .option('--expires-in <duration>', 'lifetime, e.g. 15m, 8h', '8h')
    .action(async (o: TokenOptions) => {
      deps.out(await mintToken(o));
    });

  const connections = program.command('connections').description('Autopilot connections');
  connections
    .command('list')
    .action(async () => print(await api().request('GET', '/v1/connections'), COLUMNS.connections));
  connections
    .command('get <connectionId>')
    .action(async (connectionId: string) =>
      print(await api().request('GET', `/v1/connections/${id(connectionId)}`)),
    );
  connections
    .command('create')
    .requiredOption('--name <displayName>', 'display name')
    .addOption(
      new Option('--api-key <key>', 'Autopilot API key').env('AUTOPILOT_API_KEY').makeOptionMandatory(),
    )
    .option('--allow-contributors', 'let contributors set up exports through it', false)
    .option('--accept-privacy-notice', 'accept that data leaves the platform compliance boundary', false)
    .option('--add-me', 'add yourself as an export user', false)
    .action(
      async (o: {
        name: string;
        apiKey: string;
        allowContributors: boolean;
        acceptPrivacyNotice: boolean;
        addMe: boolean;
      }) => {
        if (!o.acceptPrivacyNotice)
          throw new CliError(
            'a connection needs --accept-privacy-notice (data leaves the compliance boundary)',
          );
        const body = {
          displayName: o.name,
          apiKey: o.apiKey,
          allowContributors: o.allowContributors,
          privacyConsent: true,
          addMeAsExportUser: o.addMe,
        };
        print(await api().request('POST', '/v1/connections', body));
      },
    );
  connections
    .command('delete <connectionId>')
    .option('--detach', 'detach the exports that use it (they keep their settings and never run)', false)
    .action(async (connectionId: string, o: { detach: boolean }) =>
      print(
        await api().request('DELETE', `/v1/connections/${id(connectionId)}${o.detach ? '?detach=true' : ''}`),
      ),
    );

  const exportsCommand = program.command('exports').description('exports of segments to Autopilot');
  exportsCommand
    .command('list')
    .action(async () => print(await api().request('GET', '/v1/exports'), COLUMNS.exports));
  exportsCommand
    .command('get <exportId>')
    .action(async (exportId: string) => print(await api().request('GET', `/v1/exports/${id(exportId)}`)));
  exportsCommand
    .command('create')
    .option('--file <export.json>', 'export definition as JSON (flags override its fields)')
    .option('--name <name>')
    .option('--connection <connectionId>')
    .option('--segments <ids>', 'comma-separated segment ids', list)
    .option('--email <attribute>', 'profile attribute holding the e-mail')
    .option('--first-name <attribute>')
    .option('--last-name <attribute>')
    .option('--custom <attribute:field:type>', 'custom field (repeatable)', collect)
    .addOption(new Option('--limit-policy <policy>').choices(['skip', 'truncate']))
    .option('--profile-limit <n>', 'at most n profiles per run (1..100000)')
    .option('--list-name <segmentId=name>', 'Autopilot list of a segment (repeatable)', collect)
    .addOption(
      new Option('--sync-mode <mode>', 'mirror: lists hold exactly the segments (leavers removed); upsert: never remove').choices([
        'mirror',
        'upsert',
      ]),
    )
    .option('--mass-removal-percent <n>', 'a run removing more than n% of a list removes nothing (default 20)')
    .action(async (o: ExportFlags) =>
      print(await api().request('POST', '/v1/exports', exportBody(o, deps.readFile))),
    );
  exportsCommand
    .command('run <exportId>')
    .description('run the export now')
    .option('--watch', 'follow the run until it ends', false)
    .option('--interval <ms>', 'poll interval while watching', '1000')
    .option('--dry-run', 'compute what the run would do (added, updated, unchanged, removed, quota); change nothing', false)
    .option('--full-resync', 'send every contact again and rebuild what the export knows of Autopilot', false)
    .option('--confirm-removals', 'apply removals even above the export mass-removal share', false)
    .action(async (exportId: string, o: RunFlags) => {
      const body = {
        ...(o.dryRun ? { dryRun: true } : {}),
        ...(o.fullResync ? { fullResync: true } : {}),
        ...(o.confirmRemovals ? { confirmRemovals: true } : {}),
      };
      const accepted = await api().request<{ runId: string }>('POST', `/v1/exports/${id(exportId)}/runs`, body);
      if (!o.watch) return print(accepted);
      await watch(accepted.runId, Number(o.interval));
    });

  const runs = program.command('runs').description('export runs');
  runs
    .command('get <runId>')
    .action(async (runId: string) => print(await api().request('GET', `/v1/runs/${id(runId)}`)));
  runs
    .command('show <runId>')
    .description('the run in two lines: phase and progress, then status and counts (added, updated, unchanged, removed)')
    .action(async (runId: string) => {
      const run = await api().request<RunLike>('GET', `/v1/runs/${id(runId)}`);
      if (program.opts<{ json: boolean }>().json) return print(run);
      deps.out(`phase ${phaseOf(run)}`);
      deps.out(runSummary(run));
    });
  runs
    .command('list')
    .requiredOption('--export <exportId>')
    .action(async (o: { export: string }) =>
      print(await api().request('GET', `/v1/exports/${id(o.export)}/runs`), COLUMNS.runs),
    );
  runs
    .command('rejections <runId>')
    .option('--limit <n>', 'rows per page', '100')
    .option('--cursor <cursor>', 'page after this cursor')
    .action(async (runId: string, o: { limit: string; cursor?: string }) => {
      const query = new URLSearchParams({ limit: o.limit, ...(o.cursor ? { cursor: o.cursor } : {}) });
      const page = await api().request<{ items: object[]; nextCursor: string | null }>(
        'GET',
        `/v1/runs/${id(runId)}/rejections?${query}`,
      );
      if (program.opts<{ json: boolean }>().json) return print(page);
      print(page.items, COLUMNS.rejections);
      if (page.nextCursor) deps.out(`next page: --cursor ${page.nextCursor}`);
    });
  runs
    .command('cancel <runId>')
    .action(async (runId: string) => print(await api().request('POST', `/v1/runs/${id(runId)}/cancel`)));
  runs
    .command('watch <runId>')
    .description('show the phase, its progress and the status until the run ends; exits 0 only if it succeeded')
    .option('--interval <ms>', 'poll interval', '1000')
    .action((runId: string, o: { interval: string }) => watch(runId, Number(o.interval)));

  const deadLetters = program
    .command('dead-letters')
    .description('messages no consumer could process (needs Kafka access: --brokers or KAFKA_BROKERS)');
  const withDeadLetterOptions = (command: Command) =>
    command
      .addOption(
        new Option('--brokers <list>', 'Kafka bootstrap servers, comma-separated')
          .env('KAFKA_BROKERS')
          .default('127.0.0.1:9092'),
      )
      .option('--topic <name>', 'the dead-letter topic', TOPICS.deadLetter.name)
      .option('--code <code>', 'only letters with this failure code')
      .option('--source-topic <topic>', 'only letters from this topic')
      .option('--key <key>', 'only letters of messages with this key')
      .option('--since <time>', 'only letters that failed at or after this ISO time')
      .option('--offset <offset>', 'only the letter at this offset of the dead-letter topic (repeatable)', collect);
  const filterOf = (o: DeadLetterOptions): DeadLetterFilter => {
    const since = o.since === undefined ? undefined : new Date(o.since);
    if (since && Number.isNaN(since.getTime())) throw new CliError(`--since: not a time: ${o.since}`);
    return { code: o.code, sourceTopic: o.sourceTopic, key: o.key, since, offsets: o.offset };
  };
  const withTopic = async <T>(o: DeadLetterOptions, work: (topic: DeadLetterTopic) => Promise<T>): Promise<T> => {
    if (!deps.openDeadLetters) throw new CliError('dead-letters: no Kafka access in this build');
    const topic = deps.openDeadLetters(list(o.brokers));
    try {
      return await work(topic);
    } finally {
      await topic.close();
    }
  };
  withDeadLetterOptions(
    deadLetters
      .command('list')
      .description('code, reason, source topic, key and time of each dead letter (the value only with --show-value)'),
  )
    .option('--limit <n>', 'the newest n letters', '100')
    .option('--show-value', 'also show the original value (personal data: handle with care)', false)
    .action(async (o: DeadLetterOptions & { limit: string; showValue: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive integer');
      const letters = await withTopic(o, (topic) =>
        listDeadLetters(topic, { deadLetterTopic: o.topic, filter: filterOf(o), limit, showValue: o.showValue }),
      );
      const columns = ['offset', 'failedAt', 'code', 'source', 'key', 'reason', ...(o.showValue ? ['value'] : [])];
      print(letters, columns);
    });
  withDeadLetterOptions(
    deadLetters
      .command('replay')
      .description(
        're-publish the original value of the selected letters to their source topic (header x-replayed-from)',
      ),
  )
    .option('--all', 'replay every letter of the topic (without a filter or --offset, nothing is replayed)', false)
    .option('--dry-run', 'only show what would be replayed', false)
    .action(async (o: DeadLetterOptions & { all: boolean; dryRun: boolean }) => {
      const filter = filterOf(o);
      const selective = Object.values(filter).some((v) => v !== undefined);
      if (!selective && !o.all)
        throw new CliError('replay: select letters with --offset, --code, --source-topic, --key or --since (or --all)');
      const outcomes = await withTopic(o, (topic) =>
        replayDeadLetters(topic, { deadLetterTopic: o.topic, filter, dryRun: o.dryRun }),
      );
      print(outcomes, ['offset', 'source', 'result', 'why']);
      const replayed = outcomes.filter((x) => x.result !== 'skipped').length;
      deps.err(`${o.dryRun ? 'would replay' : 'replayed'} ${replayed} of ${outcomes.length} selected letter(s)`);
      if (outcomes.length === 0) setExitCode(1);
    });

  const events = program
    .command('events')
    .description(`try the event upstream platforms publish (${SEGMENT_REFRESHED_TOPIC}) by hand`);
  const checkedEvent = (file: string, fresh: boolean) => {
    const check = checkSegmentRefreshed(deps.readFile(file), { fresh });
    if (!check.valid) {
      for (const problem of check.problems) deps.err(`${file}: ${problem}`);
      throw new CliError(`${file}: not a valid ${SEGMENT_REFRESHED_TOPIC} event (${check.problems.length} problem(s))`);
    }
    return check;
  };
  events
    .command('validate <file>')
    .description('check a JSON file against the segment-refreshed contract: each field at fault named, exit 1 if any')
    .action((file: string) => {
      const { event, key } = checkedEvent(file, false);
      deps.out(`valid: eventId ${event.eventId}, key ${key}, snapshot ${event.snapshot.format} ${event.snapshot.location}`);
    });
  events
    .command('publish <file>')
    .description(
      'validate a segment-refreshed event and publish it, keyed <tenantId>:<segmentId>, with the TLS/SASL settings of the environment (KAFKA_SSL*, KAFKA_SASL_*)',
    )
    .addOption(
      new Option('--brokers <list>', 'Kafka bootstrap servers, comma-separated')
        .env('KAFKA_BROKERS')
        .default('127.0.0.1:9092'),
    )
    .option('--topic <name>', 'the topic (tests only; upstream platforms publish to the default)', SEGMENT_REFRESHED_TOPIC)
    .option('--fresh', 'give the event a new eventId and occurredAt = now (a repeated eventId is ignored as a duplicate)', false)
    .action(async (file: string, o: { brokers: string; topic: string; fresh: boolean }) => {
      const { event, key, value } = checkedEvent(file, o.fresh);
      if (!deps.openPublisher) throw new CliError('events publish: no Kafka access in this build');
      const publisher = deps.openPublisher(list(o.brokers));
      try {
        const at = await publisher.publish(o.topic, { key, value });
        deps.out(`published eventId ${event.eventId} to ${o.topic} partition ${at.partition} offset ${at.offset} (key ${key})`);
      } finally {
        await publisher.close();
      }
    });

  const quota = program.command('quota').description("a tenant's monthly profile quota");
  quota
    .command('get')
    .option('--tenant <tenantId>', "defaults to the token's tenant")
    .action(async (o: { tenant?: string }) =>
      print(await api().request('GET', `/v1/tenants/${id(tenantOf(o.tenant))}/quota`)),
    );
  quota
    .command('set')
    .option('--tenant <tenantId>', "defaults to the token's tenant")
    .requiredOption('--profiles-per-month <n>', 'profiles the tenant may deliver per calendar month (UTC)')
    .action(async (o: { tenant?: string; profilesPerMonth: string }) => {
      const n = Number(o.profilesPerMonth);
      if (!Number.isInteger(n) || n < 0)
        throw new CliError('--profiles-per-month must be a whole number >= 0');
      print(
        await api().request('PUT', `/v1/tenants/${id(tenantOf(o.tenant))}/quota`, { profilesPerMonth: n }),
      );
    });

  function tenantOf(given: string | undefined): string {
    const tenant = given ?? tenantOfToken(program.opts<{ token?: string }>().token);
    if (!tenant) throw new CliError('--tenant is required (the token names no tenant)');
    return tenant;
  }

  async function watch(runId: string, intervalMs: number): Promise<void> {
    if (!Number.isInteger(intervalMs) || intervalMs < 100)
      throw new CliError('--interval must be at least 100 ms');
    const run = await watchRun(api(), runId, { intervalMs, stream: deps.progressStream, sleep: deps.sleep });
    deps.out(runSummary(run));
    setExitCode(run.status === 'succeeded' ? 0 : 2);
  }

  return program;
}

/** Runs one command line; returns the process exit code (0 ok, 1 error, 2 a watched run did not succeed). */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(deps, (code) => (exitCode = code));
  // Every command, not only the root: commander copies these settings only to commands created after them.
  const configure = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({
      writeOut: (s) => deps.out(s.trimEnd()),
      writeErr: (s) => deps.err(s.trimEnd()),
    });
    command.commands.forEach(configure);
  };
  configure(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    deps.err(formatError(error));
    return error instanceof CliError ? error.exitCode : 1;
  }
}
