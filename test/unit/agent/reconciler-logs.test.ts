import { expect } from 'chai';
import { Reconciler, fixedInputs, type Inputs } from '../../../src/agent/reconciler.js';
import type { SpeakerPort } from '../../../src/model/speaker.js';
import type { DesiredState } from '../../../src/model/path.js';
import type { Route } from '../../../src/model/route.js';
import { MAX_LINES_PER_PASS } from '../../../src/log/bounded.js';
import { route } from '../../fixtures/routes.js';
import { capturingLogger } from '../../helpers/log.js';

/** A gobgpd that runs our settings and holds what it is sent (the real one is in test/integration/agent). */
function fakeSpeaker(): SpeakerPort & { rib: Map<string, Route> } {
  const rib = new Map<string, Route>();
  return {
    rib,
    probe: async () => ({ state: 'running', asn: 64512, routerId: '192.168.1.10', listenPort: 179 }),
    provisionGlobal: async () => ({ result: 'matches' }),
    provisionPeers: async () => ({ added: [], updated: [], deleted: [] }),
    listOwnedPaths: async () => ({ owned: [...rib.values()], local: rib.size }),
    addPaths: async (rs) => {
      for (const r of rs) rib.set(r.prefix, r);
    },
    deletePaths: async (rs) => {
      for (const r of rs) rib.delete(r.prefix);
    },
    listPeers: async () => [],
    watchPeers: () => () => undefined,
    close: () => undefined,
  };
}

const hostRoutes = (n: number, third = 0): Route[] => Array.from({ length: n }, (_, i) => route(`10.${50 + third}.${i >> 8}.${i & 255}/32`));

function inputs(routes: Route[]): Inputs {
  const desired: DesiredState = {
    paths: routes.map((r) => ({ route: r, kinds: ['cluster-ip'], reasons: [{ rule: 'local-endpoint' as const, text: `Service for ${r.prefix}` }] })),
    refused: [],
  };
  return { synced: true, connected: true, speaker: { asn: 64512, routerId: '192.168.1.10', listenPort: 179, peers: [] }, desired };
}

describe('reconciler: path-change logs are bounded per pass', () => {
  it('10,000 new paths: the first are logged one by one, then one "advertise: ... and N more" line; every path is sent', async () => {
    const speaker = fakeSpeaker();
    const { log, lines } = capturingLogger();
    let current = hostRoutes(10_000);
    const rec = new Reconciler({ speaker, inputs: fixedInputs(() => inputs(current)), log });
    expect(await rec.pass(new Set(['test']))).to.equal('done');
    expect(speaker.rib.size).to.equal(10_000);
    const adv = lines.filter((l) => l.message.startsWith('advertise'));
    expect(adv).to.have.length(MAX_LINES_PER_PASS + 1);
    expect(adv[0]).to.include({ message: 'advertise', prefix: '10.50.0.0/32' });
    expect(adv[0]!['reasons']).to.deep.equal(['Service for 10.50.0.0/32']);
    expect(adv.at(-1)).to.include({ message: `advertise: ... and ${10_000 - MAX_LINES_PER_PASS} more`, more: 10_000 - MAX_LINES_PER_PASS, total: 10_000 });

    // All withdrawn for other ones: withdraw lines bounded the same way.
    lines.length = 0;
    current = hostRoutes(3, 1);
    await rec.pass(new Set(['test']));
    const wd = lines.filter((l) => l.message.startsWith('withdraw'));
    expect(wd).to.have.length(MAX_LINES_PER_PASS + 1);
    expect(wd.at(-1)).to.include({ message: `withdraw: ... and ${10_000 - MAX_LINES_PER_PASS} more` });
    expect(lines.filter((l) => l.message === 'advertise')).to.have.length(3);
    expect([...speaker.rib.keys()].sort()).to.deep.equal(['10.51.0.0/32', '10.51.0.1/32', '10.51.0.2/32']);
  });

  it('a few changes are each logged, with no summary line', async () => {
    const speaker = fakeSpeaker();
    const { log, lines } = capturingLogger();
    const rec = new Reconciler({ speaker, inputs: fixedInputs(() => inputs(hostRoutes(3))), log });
    await rec.pass(new Set(['test']));
    expect(lines.filter((l) => l.message.startsWith('advertise')).map((l) => l.message)).to.deep.equal(['advertise', 'advertise', 'advertise']);
  });
});
