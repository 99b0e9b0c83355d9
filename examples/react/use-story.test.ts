/**
 * The README's React example, rendered by React against a real server: the hook shows the
 * story's snapshot, then each new event as it is published, and closes its connection on
 * unmount.
 */
/* eslint-disable @typescript-eslint/no-deprecated -- react-test-renderer is deprecated, but it is
   still React's own renderer without a DOM: enough to run a hook's effects and state for real. */
import { createElement } from 'react';
import TestRenderer, { type ReactTestRenderer } from 'react-test-renderer';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../tests/support/live-client.ts';
import {
  development,
  opened,
  startLiveServer,
  type LiveServer,
} from '../../tests/support/live-server.ts';
import { useStory } from './use-story.ts';

function Headlines({ storyId, serverUrl }: { storyId: string; serverUrl: string }) {
  const { story, status } = useStory(storyId, serverUrl);
  return createElement(
    'section',
    { 'data-status': status },
    createElement('h1', null, story?.story.title ?? 'loading'),
    ...(story?.timeline ?? []).map((entry) =>
      createElement('p', { key: entry.developmentId }, entry.headline),
    ),
  );
}

describe('useStory (examples/react/use-story.ts)', () => {
  let live: LiveServer;
  let renderer: ReactTestRenderer | undefined;
  const globals = globalThis as { WebSocket?: unknown };
  const hadWebSocket = 'WebSocket' in globals;

  beforeAll(async () => {
    // Node 20 has no global WebSocket; browsers and Node 22+ do.
    if (!hadWebSocket) globals.WebSocket = WebSocket;
    live = await startLiveServer();
    await live.post('react-story', [opened('Talks in Geneva'), development('Delegations arrive')]);
  });
  afterAll(async () => {
    renderer?.unmount();
    await live.close();
    if (!hadWebSocket) delete globals.WebSocket;
  });

  const shown = () => {
    const tree = renderer?.toJSON();
    if (tree === null || tree === undefined || Array.isArray(tree)) return null;
    const texts = (tree.children ?? []).map((child) =>
      typeof child === 'string'
        ? child
        : (child.children ?? []).filter((text) => typeof text === 'string').join(''),
    );
    return { status: tree.props['data-status'] as string, texts };
  };

  it('renders the snapshot, then each new event live', async () => {
    renderer = TestRenderer.create(
      createElement(Headlines, { storyId: 'react-story', serverUrl: live.url }),
    );
    await until(
      () => shown()?.status === 'live' && shown()?.texts.length === 2,
      'the hook to go live with the snapshot',
    );
    expect(shown()?.texts).toEqual(['Talks in Geneva', 'Delegations arrive']);

    await live.post('react-story', [development('A joint statement is expected')]);
    await until(() => shown()?.texts.length === 3, 'the new event to render');
    expect(shown()?.texts).toEqual([
      'Talks in Geneva',
      'Delegations arrive',
      'A joint statement is expected',
    ]);
  });

  it('closes its connection on unmount', async () => {
    const connections = () => live.server.hub.connections;
    expect(connections()).toBe(1);
    renderer?.unmount();
    renderer = undefined;
    await until(() => connections() === 0, 'the connection to close');
  });
});
