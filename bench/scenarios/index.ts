/** Every scenario, in the order a full run takes them. */
import type { Scenario } from '../lib/scenario.ts';
import { appendHttp } from './append-http.ts';

export const scenarios: readonly Scenario[] = [appendHttp];
