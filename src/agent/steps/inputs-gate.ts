import type { SpeakerProbe } from '../../model/speaker.js';
import type { Inputs, ReconcilerDeps } from '../reconciler-types.js';

/** A pass that sends nothing, and why (undefined: no reason to report). */
export interface Skip {
  waiting: string | undefined;
}

/**
 * Step "inputs": read the cluster side, and stop the pass when it cannot configure gobgpd yet (no speaker
 * configuration) or must not touch it (a configuration never valid since start while gobgpd already runs BGP that
 * this process did not start: its paths and peers are left exactly as they are). Each wait is logged when it changes.
 */
export class InputsGate {
  private cachesSynced = false;
  private lastWaiting: string | undefined;
  private lastHold: string | undefined;

  constructor(private readonly deps: Pick<ReconcilerDeps, 'inputs' | 'log' | 'metrics'>) {}

  get synced(): boolean {
    return this.cachesSynced;
  }

  /** The held configuration's reason while held (status). */
  get hold(): string | undefined {
    return this.lastHold;
  }

  async read(reasons: ReadonlySet<string>): Promise<Inputs> {
    const inputs = await this.deps.inputs.read(reasons);
    this.cachesSynced = inputs.synced;
    this.deps.metrics?.cachesSynced.set(inputs.synced ? 1 : 0);
    return inputs;
  }

  /** Waiting for a speaker configuration (logged when the reason changes). */
  waiting(inputs: Inputs): Skip {
    if (inputs.waiting !== this.lastWaiting) this.deps.log.info('waiting before configuring gobgpd', { waiting: inputs.waiting });
    this.lastWaiting = inputs.waiting;
    return { waiting: inputs.waiting };
  }

  /** Held: a fallback configuration meets a gobgpd that runs BGP this process did not start. */
  held(inputs: Inputs, probe: SpeakerProbe, startedBgp: boolean): Skip | undefined {
    if (inputs.holdIfRunning === undefined || probe.state !== 'running' || startedBgp) {
      this.lastHold = undefined;
      return undefined;
    }
    if (inputs.holdIfRunning !== this.lastHold) {
      this.deps.log.error('configuration invalid and never valid since start: gobgpd already runs BGP, so its paths and peers are left exactly as they are', {
        why: inputs.holdIfRunning,
      });
    }
    this.lastHold = inputs.holdIfRunning;
    return { waiting: `held: ${inputs.holdIfRunning}` };
  }
}
