import type { SpeakerConfig } from '../../model/peer.js';
import type { GlobalOutcome, SpeakerProbe } from '../../model/speaker.js';
import type { ReconcilerDeps } from '../reconciler-types.js';

/**
 * Step "global": StartBgp when BGP is not running, else compare with what the probe saw (no second GetBgp).
 * A running gobgpd whose global settings (AS, router-id, listen port) differ from ours is left as it runs — svcbgp
 * never restarts a running speaker's global config — but that does not stop the pass: paths and peers follow the
 * cluster as always. The conflict is reported once when it starts or changes (error log), by
 * svcbgp_gobgp_global_conflict and by /readyz (see agent.ts for why it fails readiness).
 */
export class GlobalSettings {
  /** The differences of the current conflict (JSON), undefined when gobgpd runs our settings. */
  private conflict: string | undefined;
  /** This process started BGP in gobgpd (since its last restart): what gobgpd holds is ours to change. */
  private started = false;

  constructor(private readonly deps: Pick<ReconcilerDeps, 'speaker' | 'log' | 'metrics'>) {}

  get startedBgp(): boolean {
    return this.started;
  }

  get conflictText(): string | undefined {
    return this.conflict;
  }

  /** gobgpd went away: whoever starts it next, it is not the BGP this process started. */
  forgetStarted(): void {
    this.started = false;
  }

  async ensure(config: SpeakerConfig, probe: SpeakerProbe): Promise<GlobalOutcome> {
    const running = probe.state === 'running' ? { asn: probe.asn, routerId: probe.routerId, listenPort: probe.listenPort } : undefined;
    const outcome = await this.deps.speaker.provisionGlobal(config, running);
    if (outcome.result === 'started') {
      this.started = true;
      this.deps.log.info('gobgpd global configuration set', { asn: config.asn, routerId: config.routerId, listenPort: config.listenPort });
    }
    this.note(outcome);
    return outcome;
  }

  /** Log only when a conflict starts, changes or ends. */
  private note(g: GlobalOutcome): void {
    const key = g.result === 'conflict' ? JSON.stringify(g.differences) : undefined;
    if (key !== this.conflict) {
      if (g.result === 'conflict') {
        this.deps.log.error('gobgpd runs other global BGP settings than configured; left as they are, paths and peers are still reconciled', {
          error: g.message,
          running: g.running,
          differences: g.differences,
        });
      } else {
        this.deps.log.info('gobgpd global BGP settings match the configuration again', { outcome: g.result });
      }
    }
    this.conflict = key;
    this.deps.metrics?.gobgpGlobalConflict.set(key === undefined ? 0 : 1);
  }
}
