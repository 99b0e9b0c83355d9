/**
 * The `storyline` command: the one entry point that reads process.env and process.argv.
 */
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { rebuildViews } from './app/rebuild-views.ts';
import { importEvents } from './app/import-events.ts';
import { readStoryFiles } from './adapters/files/story-files.ts';
import { formatStoryFileLine } from './domain/story-file.ts';
import { createLogger, openStoryline, seedIfEmpty, startHttpServer } from './composition.ts';
import { readConfig, type Config } from './config.ts';
import { isStorylineError } from './domain/errors.ts';
import type { TokenInfo } from './app/ports.ts';
import { webhooksCommand } from './adapters/webhooks/webhooks-command.ts';

const usage = `usage: storyline <command>

  serve                          start the HTTP API (imports events/ into an empty log)
  migrate                        apply database migrations
  import <file|dir>              append story files (JSON Lines); idempotent
  export [--story <id>]          print the log as JSON Lines, re-importable
  rebuild                        rebuild every view from the log
  tokens create <name> [--story <id>]... [--admin]
                                 create a token (prints only the token); --admin: one that
                                 may also manage tokens
  tokens revoke <name>           revoke every token of that name
  tokens list                    every token: name, scope, stories, created, revoked
  webhooks add <url> [--story <id>]... [--after <position>]
                                 register a webhook endpoint (prints only its signing secret);
                                 it gets events after the head (or after <position>)
  webhooks list                  every endpoint: id, url, stories, state, cursor, lag,
                                 failures, last error
  webhooks remove <id>           stop delivering to an endpoint and forget it
  webhooks resume <id>           deliver again to a paused endpoint, from its cursor

Configuration comes from environment variables; see README.md.`;

const commands = ['serve', 'migrate', 'import', 'export', 'rebuild', 'tokens'] as const;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  const config = readConfig(process.env);
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate':
      return withStoryline(config, () => {
        console.error('migrations are applied');
        return Promise.resolve(0);
      });
    case 'import': {
      const target = rest[0];
      if (target === undefined) return fail('import needs a file or folder');
      const files = await readStoryFiles(target);
      if (files.problems.length > 0) return fail(files.problems.join('\n'));
      return withStoryline(config, async (storyline) => {
        const report = await importEvents(storyline.appender, files.lines);
        console.error(
          `${report.appended} appended, ${report.alreadyPresent} already present, ${report.failed.length} failed`,
        );
        for (const failure of report.failed) {
          const line = files.lines[failure.index];
          console.error(`  event ${line?.event.id ?? '?'}: ${failure.code}: ${failure.message}`);
        }
        return report.failed.length === 0 ? 0 : 1;
      });
    }
    case 'export': {
      const { values } = parseArgs({ args: [...rest], options: { story: { type: 'string' } } });
      return withStoryline(config, async (storyline) => {
        let after = 0;
        let exported = 0;
        for (;;) {
          const page = await storyline.queries.events({
            after,
            limit: 1000,
            ...(values.story === undefined ? {} : { storyIds: [values.story] }),
          });
          for (const event of page.events) {
            const { requestId: _requestId, ...metadata } = event.metadata;
            const line = formatStoryFileLine(
              event.storyId,
              {
                id: event.id,
                type: event.type,
                data: event.data,
                occurredAt: event.occurredAt,
                metadata,
              } as Parameters<typeof formatStoryFileLine>[1],
              event.recordedAt,
            );
            process.stdout.write(`${line}\n`);
          }
          exported += page.events.length;
          const last = page.events.at(-1);
          if (last === undefined) {
            // A story exists once it has an event: none means the id is wrong (a typo, most
            // likely), which an empty export and success would hide.
            if (values.story !== undefined && exported === 0) {
              throw new Error(`no story "${values.story}" in the log`);
            }
            return 0;
          }
          after = last.position;
        }
      });
    }
    case 'rebuild':
      return withStoryline(config, async (storyline) => {
        const result = await rebuildViews(storyline.log);
        console.error(`rebuilt ${result.stories} stories from ${result.events} events`);
        return 0;
      });
    case 'tokens': {
      const [action, ...args] = rest;
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          story: { type: 'string', multiple: true },
          admin: { type: 'boolean', default: false },
        },
      });
      const name = positionals.join(' ');
      if (action === 'list') {
        if (name !== '') return fail('tokens list takes no name');
        return withStoryline(config, async (storyline) => {
          process.stdout.write(formatTokenList(await storyline.tokens.list()));
          return 0;
        });
      }
      if (action !== 'create' && action !== 'revoke') {
        return fail(
          action === undefined
            ? 'tokens needs an action: create, revoke, list'
            : `unknown action "${action}" for tokens; the actions are create, revoke, list`,
        );
      }
      if (name === '') return fail(`tokens ${action} needs a name`);
      if (action === 'create') {
        return withStoryline(config, async (storyline) => {
          const scope = values.admin ? 'admin' : 'publish';
          console.log(await storyline.tokens.create(name, values.story, scope));
          return 0;
        });
      }
      return withStoryline(config, async (storyline) => {
        console.error(`revoked ${await storyline.tokens.revoke(name)} token(s) named "${name}"`);
        return 0;
      });
    }
    case 'webhooks':
      return webhooksCommand(rest, config.webhooks, (work) => withStoryline(config, work));
    default:
      return fail(
        `unknown command "${command}"; the commands are ${commands.join(', ')}\n\n${usage}`,
      );
  }
}

async function withStoryline(
  config: Config,
  work: (storyline: Awaited<ReturnType<typeof openStoryline>>) => Promise<number>,
): Promise<number> {
  const logger = createLogger({ logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const storyline = await openStoryline(config, logger);
  try {
    return await work(storyline);
  } finally {
    await storyline.close();
  }
}

async function serve(config: Config): Promise<number> {
  const logger = createLogger(config);
  // Listening from the start: a signal during startup stops the service once it is up, in
  // order, instead of killing the process and leaving the embedded database behind.
  const stop = stopRequests(logger);
  const storyline = await openStoryline(config, logger, { exclusiveDatabase: true });
  storyline.onFatal((message) => stop.fatal(message));
  let http: Awaited<ReturnType<typeof startHttpServer>> | null = null;
  try {
    if (config.seed) await seedIfEmpty(storyline, config.eventsDir, logger);
    http = await startHttpServer(storyline, config, logger);
  } catch (error) {
    await storyline.close();
    throw error;
  }
  const running = http;
  const { head } = await storyline.queries.logInfo();
  const stories = await storyline.queries.listStories();
  console.log(
    [
      '',
      `Storyline is serving ${running.url}`,
      `  database: ${storyline.databaseLabel}`,
      `  log: ${head} events in ${stories.length} ${stories.length === 1 ? 'story' : 'stories'}${stories[0] === undefined ? '' : `, e.g. ${running.url}/v1/stories/${stories[0].storyId}`}`,
      `  publish token: ${tokenHint(config)}`,
      '  stop: Ctrl-C',
      '',
    ].join('\n'),
  );

  const reason = await stop.requested;
  // The whole shutdown is bounded: should anything hang past STORYLINE_SHUTDOWN_MS, the process
  // exits anyway (the embedded database is still asked to stop, by its exit hook).
  let stopped = false;
  const bound = setTimeout(() => {
    if (!stopped) {
      console.error(
        `storyline: did not stop within STORYLINE_SHUTDOWN_MS (${config.shutdownMs} ms); exiting`,
      );
    }
    process.exit(stopped ? process.exitCode : 1);
  }, config.shutdownMs);
  bound.unref();
  // In order: stop taking connections and requests, end live sessions, let in-flight requests
  // finish (cut what is left when the drain's share of the time is up), then let queued appends
  // commit, close the pool and, last, stop the embedded database.
  const drainMs = Math.max(config.shutdownMs / 2, config.shutdownMs - 3000);
  await running.close({ deadlineMs: drainMs });
  await storyline.close();
  stopped = true;
  if (reason.fatal !== undefined) {
    console.error(
      `storyline: ${reason.fatal}; exiting so that a supervisor (or you) can start Storyline again`,
    );
    return 1;
  }
  logger.info('stopped');
  return 0;
}

interface StopReason {
  readonly signal?: NodeJS.Signals;
  /** A failure the service cannot recover from. */
  readonly fatal?: string;
}

/**
 * SIGINT (Ctrl-C) and SIGTERM ask for a shutdown. The handlers stay for the whole run: a second
 * signal is noted, not left to Node's default, which would kill the process mid-drain.
 */
function stopRequests(logger: Logger): {
  readonly requested: Promise<StopReason>;
  fatal(message: string): void;
} {
  let resolve: (reason: StopReason) => void = () => undefined;
  const requested = new Promise<StopReason>((settle) => {
    resolve = settle;
  });
  let asked = false;
  const request = (reason: StopReason) => {
    if (asked) {
      logger.warn(reason, 'already shutting down (within STORYLINE_SHUTDOWN_MS)');
      return;
    }
    asked = true;
    if (reason.fatal === undefined) logger.info(reason, 'shutting down');
    else logger.error(reason, 'shutting down');
    resolve(reason);
  };
  process.on('SIGINT', (signal) => request({ signal }));
  process.on('SIGTERM', (signal) => request({ signal }));
  return { requested, fatal: (message) => request({ fatal: message }) };
}

const mask = '*****';

/**
 * The command that makes a publish token in the database this server uses, as run from a
 * checkout. Without DATABASE_URL the CLI finds the embedded PostgreSQL on its own (in the same
 * data folder, so a chosen one is named); with it, the command has to carry the same URL (else it would make the token in an embedded database the
 * server never reads), and a password in it is masked: a banner ends up in logs and screenshots.
 */
function tokenHint({ databaseUrl, dataDir, dataDirIsDefault }: Config): string {
  const command = 'npm run storyline -- tokens create <your-name>';
  const where = '(in another terminal';
  if (databaseUrl === undefined) {
    // A data folder of one's choosing: the CLI finds the server only if told the same folder.
    return dataDirIsDefault
      ? `${command}   ${where})`
      : `STORYLINE_DATA_DIR=${shellQuoted(dataDir)} ${command}   ${where})`;
  }
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return `DATABASE_URL=<the same as this server's> ${command}   ${where})`;
  }
  const masked = url.password !== '' || url.searchParams.has('password');
  if (url.password !== '') url.password = mask;
  if (url.searchParams.has('password')) url.searchParams.set('password', mask);
  // URL escapes the mask in the query, not in the user information; show it the same way.
  const shown = url.toString().replaceAll(encodeURIComponent(mask), mask);
  return `DATABASE_URL=${shellQuoted(shown)} ${command}   ${where}${masked ? `, with the password in place of ${mask}` : ''})`;
}

function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** Tokens as an aligned table, one a line; the tokens themselves are never stored or shown. */
function formatTokenList(tokens: readonly TokenInfo[]): string {
  const rows = [
    ['NAME', 'SCOPE', 'STORIES', 'CREATED', 'REVOKED'],
    ...tokens.map((token) => [
      token.name,
      token.scope,
      token.stories === null ? '*' : token.stories.join(','),
      token.createdAt,
      token.revokedAt ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths?.[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function fail(message: string): number {
  console.error(message);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A message for people; the stack only when asked for (LOG_LEVEL=debug or trace).
    const verbose = ['debug', 'trace'].includes(process.env['LOG_LEVEL'] ?? '');
    if (verbose || !(error instanceof Error)) console.error(error);
    else if (isStorylineError(error)) console.error(`storyline: ${error.code}: ${error.message}`);
    else {
      const cause = error.cause instanceof Error ? `\n  because: ${error.cause.message}` : '';
      console.error(`storyline: ${error.message}${cause}`);
    }
    process.exitCode = 1;
  },
);
