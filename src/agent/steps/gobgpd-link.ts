import type { SpeakerProbe } from '../../model/speaker.js';
import type { ReconcilerDeps } from '../reconciler-types.js';

/**
 * Step "probe": is gobgpd there, in the API svcbgp speaks, with BGP started? One GetBgp per pass (its answer feeds
 * the global step), and the monitor's periodic ones in between. Transitions are logged once, not every probe.
 */
export class GobgpdLink {
  private reachable = false;
  private incompatible: string | undefined;

  constructor(private readonly deps: Pick<ReconcilerDeps, 'speaker' | 'log' | 'metrics'>) {}

  get isReachable(): boolean {
    return this.reachable;
  }

  readiness(): { gobgpReachable: boolean; gobgpApiMatches: boolean; gobgpApi: string | undefined } {
    return {
      gobgpReachable: this.reachable,
      gobgpApiMatches: this.reachable && this.incompatible === undefined,
      gobgpApi: this.deps.speaker.apiVersion?.(),
    };
  }

  /**
   * Records a probe. Returns true when what gobgpd holds is unknown or gone (unreachable, BGP not started, another
   * API): the caller forgets what it believed was applied and provisioned.
   */
  note(p: SpeakerProbe): boolean {
    const { log, metrics, speaker } = this.deps;
    const reachable = p.state !== 'unreachable';
    if (reachable !== this.reachable) {
      log[reachable ? 'info' : 'warn'](reachable ? 'gobgpd reachable' : 'gobgpd unreachable', {
        error: p.state === 'unreachable' ? p.error : undefined,
      });
    }
    this.reachable = reachable;
    metrics?.gobgpUp.set(reachable ? 1 : 0);
    const incompatible = p.state === 'incompatible' ? p.error : undefined;
    if (incompatible !== undefined && incompatible !== this.incompatible) {
      log.error('gobgpd answers in another API than svcbgp speaks; nothing sent', { event: 'gobgp-api-mismatch', error: incompatible });
    } else if (incompatible === undefined && this.incompatible !== undefined && reachable) {
      log.info('gobgpd API matches again', { event: 'gobgp-api-mismatch-resolved' });
    }
    this.incompatible = incompatible;
    metrics?.setGobgpApi(reachable ? speaker.apiVersion?.() : undefined, incompatible !== undefined);
    return !reachable || p.state === 'unprovisioned' || incompatible !== undefined;
  }
}
