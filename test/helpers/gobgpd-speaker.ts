/** The agent's speaker over a test's own client, counting failed calls in `metrics` as the agent does. */
import { GobgpSpeaker } from '../../src/gobgp/speaker.js';
import type { GobgpClient } from '../../src/gobgp/types.js';
import type { AgentMetrics } from '../../src/http/metrics.js';
import type { Logger } from '../../src/log/logger.js';

export function speakerOverClient(client: GobgpClient, opts: { log: Logger; metrics?: AgentMetrics }): GobgpSpeaker {
  const metrics = opts.metrics;
  return new GobgpSpeaker(client, { log: opts.log, ...(metrics ? { onRpcError: (rpc: string) => metrics.gobgpErrors.inc({ rpc }) } : {}) });
}
