/**
 * `storyline webhooks add|list|remove|resume`: the CLI face of the webhook registry. Output for
 * people on stderr; stdout carries only what a script wants (the secret, the table).
 */
import { parseArgs } from 'node:util';
import type { WebhookListing } from '../../app/webhook-registry.ts';
import type { WebhookConfig } from '../../config.ts';
import type { Storyline } from '../../composition.ts';
import { createWebhookRegistry } from './webhook-service.ts';

type WithStoryline = (work: (storyline: Storyline) => Promise<number>) => Promise<number>;

export async function webhooksCommand(
  args: readonly string[],
  config: Pick<WebhookConfig, 'allowHttp' | 'allowPrivate'>,
  withStoryline: WithStoryline,
): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      story: { type: 'string', multiple: true },
      after: { type: 'string' },
    },
  });
  const registryOf = (storyline: Storyline) =>
    createWebhookRegistry(storyline.connection, storyline.reader, config);
  switch (action) {
    case 'add': {
      const [url, ...extra] = positionals;
      if (url === undefined || extra.length > 0) return usage('webhooks add needs one URL');
      const after = values.after === undefined ? undefined : Number(values.after);
      if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) {
        return usage('--after is a position (a whole number, 0 or more)');
      }
      return withStoryline(async (storyline) => {
        const { endpoint, secret } = await registryOf(storyline).add({
          url,
          stories: values.story,
          after,
        });
        console.error(
          `webhook ${endpoint.id} registered for ${endpoint.url} (${endpoint.stories?.join(', ') ?? 'every story'}), after position ${endpoint.cursor}; its signing secret:`,
        );
        console.log(secret);
        return 0;
      });
    }
    case 'list':
      if (positionals.length > 0) return usage('webhooks list takes no arguments');
      return withStoryline(async (storyline) => {
        process.stdout.write(formatWebhookList(await registryOf(storyline).list()));
        return 0;
      });
    case 'remove':
    case 'resume': {
      const [id, ...extra] = positionals;
      if (id === undefined || extra.length > 0) return usage(`webhooks ${action} needs one id`);
      return withStoryline(async (storyline) => {
        const registry = registryOf(storyline);
        if (action === 'remove') {
          await registry.remove(id);
          console.error(`webhook ${id} removed`);
        } else {
          const endpoint = await registry.resume(id);
          console.error(`webhook ${id} is active again, from position ${endpoint.cursor}`);
        }
        return 0;
      });
    }
    default:
      return usage('webhooks takes add, list, remove or resume');
  }
}

function usage(message: string): number {
  console.error(message);
  return 2;
}

/** Endpoints as an aligned table, one a line; the secrets are never shown again. */
export function formatWebhookList(webhooks: readonly WebhookListing[]): string {
  const rows = [
    ['ID', 'URL', 'STORIES', 'STATE', 'CURSOR', 'LAG', 'FAILURES', 'LAST ERROR'],
    ...webhooks.map((webhook) => [
      webhook.id,
      webhook.url,
      webhook.stories === null ? '*' : webhook.stories.join(','),
      webhook.state,
      String(webhook.cursor),
      String(webhook.lag),
      String(webhook.failures),
      webhook.lastError === null ? '-' : `${webhook.lastErrorAt ?? ''} ${webhook.lastError}`,
    ]),
  ];
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths?.[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
