/** Every scenario, in the order a full run takes them. */
import type { Scenario } from '../lib/scenario.ts';
import { appendHttp } from './append-http.ts';
import { catchUp } from './catch-up.ts';
import { fanOut } from './fan-out.ts';
import { growth } from './growth.ts';
import { liveLatency } from './live-latency.ts';
import { reads } from './reads.ts';
import { reconnectStorm } from './reconnect-storm.ts';
import { scaleOut } from './scale-out.ts';

export const scenarios: readonly Scenario[] = [
  appendHttp,
  liveLatency,
  fanOut,
  reads,
  growth,
  reconnectStorm,
  catchUp,
  scaleOut,
];
