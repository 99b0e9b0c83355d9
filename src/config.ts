/**
 * Configuration, read from the environment in one place (the entry point) and validated once
 * into a typed object. A bad value fails fast with a message naming the variable.
 */
import path from 'node:path';
import { z } from 'zod';

const onOff = z
  .enum(['on', 'off', 'true', 'false', '1', '0'])
  .transform((value) => value === 'on' || value === 'true' || value === '1');

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  STORYLINE_DATA_DIR: z.string().min(1).default('.data'),
  STORYLINE_SEED: onOff.default(true),
  STORYLINE_EVENTS_DIR: z.string().min(1).optional(),
  STORYLINE_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  STORYLINE_DB_POOL: z.coerce.number().int().min(2).max(200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  /** Unset: run an embedded PostgreSQL with its data in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Import the story files when the log is empty. */
  readonly seed: boolean;
  readonly eventsDir: string;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit: number;
  readonly poolSize: number;
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
}

export const projectRoot = path.resolve(import.meta.dirname, '..');

export function readConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable means unset, as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
      .join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  const value = parsed.data;
  return {
    databaseUrl: value.DATABASE_URL,
    host: value.HOST,
    port: value.PORT,
    dataDir: path.resolve(value.STORYLINE_DATA_DIR),
    seed: value.STORYLINE_SEED,
    eventsDir: path.resolve(value.STORYLINE_EVENTS_DIR ?? path.join(projectRoot, 'events')),
    bodyLimit: value.STORYLINE_BODY_LIMIT,
    poolSize: value.STORYLINE_DB_POOL,
    logLevel: value.LOG_LEVEL,
  };
}
