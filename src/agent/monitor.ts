import type { Reconciler } from './reconciler.js';
import type { SpeakerPort } from '../model/speaker.js';

/**
 * Notices gobgpd outages and restarts within seconds: a cheap GetBgp probe every `intervalMs`, plus the
 * WatchEvent peer stream, whose end (gobgpd died) causes an immediate probe. A gobgpd that answers with BGP
 * not started lost its RIB: the reconciler is told and a pass is triggered at once (restore in order: global,
 * paths, peers with local_restarting). The peer stream also feeds svcbgp_bgp_peer_state.
 */
export class GobgpdMonitor {
  private timer: NodeJS.Timeout | undefined;
  private cancelWatch: (() => void) | undefined;
  private probing = false;
  private stopped = false;

  constructor(
    private readonly speaker: SpeakerPort,
    private readonly reconciler: Reconciler,
    private readonly trigger: (reason: string, delayMs?: number) => void,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    await this.probe();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.cancelWatch?.();
    this.cancelWatch = undefined;
  }

  async probe(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    try {
      const p = await this.speaker.probe();
      if (this.stopped) return;
      if (this.reconciler.noteProbe(p)) this.trigger(`gobgpd-${p.state}`, 0);
      if ((p.state === 'running' || p.state === 'unprovisioned') && !this.cancelWatch) this.watch();
    } finally {
      this.probing = false;
    }
  }

  private watch(): void {
    this.cancelWatch = this.speaker.watchPeers(
      (p) => this.reconciler.notePeer(p, 'watch'),
      () => {
        this.cancelWatch = undefined;
        if (!this.stopped) setTimeout(() => void this.probe(), 100).unref();
      },
    );
  }
}
