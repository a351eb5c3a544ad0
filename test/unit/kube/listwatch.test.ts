import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeApiError, KubeClient } from '../../../src/kube/client.js';
import { ListWatch, type KubeObject } from '../../../src/kube/listwatch.js';
import { WatchedCache } from '../../../src/kube/watched-cache.js';
import { silentLogger } from '../../../src/log/logger.js';

/**
 * The agent's own list/watch client (src/kube/client.ts, src/kube/listwatch.ts) against a scripted HTTP server.
 * The server is a hand-made stand-in for the API server, named as such: it speaks only the list (limit/continue)
 * and watch (one JSON event per line) protocol, so each case can script exactly the answers the API server gives
 * on a relist, an expired resourceVersion or a watch it ends. The same code against the real API server: the
 * integration tests (test/integration/agent: CRD absent/served, API outage through a cuttable proxy) and every e2e
 * suite.
 */
interface Obj extends KubeObject {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec?: { n: number };
}

const obj = (name: string, rv: string, n = 0): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: { n } });

type Handler = (url: URL, res: http.ServerResponse) => void;

async function stub(
  handler: Handler,
  timeouts: ConstructorParameters<typeof KubeClient>[1] = {},
): Promise<{ client: KubeClient; requests: URL[]; times: number[]; close: () => Promise<void> }> {
  const requests: URL[] = [];
  const times: number[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url);
    times.push(Date.now());
    handler(url, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    client: new KubeClient({ server: `http://127.0.0.1:${port}` }, timeouts),
    requests,
    times,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (res: http.ServerResponse, code: number, body: unknown): void => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

const until = async (what: string, cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out: ${what}`);
};

describe('kube: list/watch client', () => {
  it('lists in pages: follows continue tokens with the limit, projects each object as its page arrives, keeps the snapshot resourceVersion', async () => {
    const pages: Record<string, { items: Obj[]; metadata: { resourceVersion: string; continue?: string } }> = {
      '': { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '42', continue: 't1' } },
      t1: { items: [obj('c', '3')], metadata: { resourceVersion: '42', continue: 't2' } },
      t2: { items: [obj('d', '4')], metadata: { resourceVersion: '42' } },
    };
    const s = await stub((url, res) => json(res, 200, pages[url.searchParams.get('continue') ?? '']));
    try {
      const projectedAt: number[] = [];
      const res = await s.client.listAll<Obj, string>('/api/v1/services', { fieldSelector: 'x=y' }, 2, (o) => {
        projectedAt.push(s.requests.length);
        return o.metadata.name;
      });
      expect(res.items).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(res.metadata?.resourceVersion).to.equal('42');
      expect(projectedAt).to.deep.equal([1, 1, 2, 3]);
      expect(s.requests.map((u) => [u.searchParams.get('limit'), u.searchParams.get('continue'), u.searchParams.get('fieldSelector')])).to.deep.equal([
        ['2', null, 'x=y'],
        ['2', 't1', 'x=y'],
        ['2', 't2', 'x=y'],
      ]);
    } finally {
      await s.close();
    }
  });

  it('an error answer is a KubeApiError with the HTTP status, the Status reason and message', async () => {
    const s = await stub((_u, res) => json(res, 410, { kind: 'Status', reason: 'Expired', message: 'The provided continue parameter is too old', code: 410 }));
    try {
      const err = await s.client.get('/api/v1/services').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(KubeApiError);
      expect((err as KubeApiError).code).to.equal(410);
      expect((err as KubeApiError).reason).to.equal('Expired');
      expect((err as KubeApiError).message).to.equal('410 Gone: The provided continue parameter is too old');
    } finally {
      await s.close();
    }
  });

  it("watches from the list's resourceVersion, applies events, resumes a watch the server ended from the last resourceVersion seen", async () => {
    let watches = 0;
    const s = await stub((url, res) => {
      if (!url.searchParams.get('watch')) {
        json(res, 200, { items: [obj('a', '5')], metadata: { resourceVersion: '10' } });
        return;
      }
      watches += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      if (watches === 1) {
        // Two events split across chunks mid-line, then the server ends the watch (its timeoutSeconds).
        const lines = `${JSON.stringify({ type: 'ADDED', object: obj('b', '11') })}\n${JSON.stringify({ type: 'MODIFIED', object: obj('a', '12', 1) })}\n`;
        res.write(lines.slice(0, 30));
        setTimeout(() => res.end(lines.slice(30)), 20);
      } else {
        res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '14' } } })}\n`);
        res.write(`${JSON.stringify({ type: 'DELETED', object: obj('b', '15') })}\n`);
      }
    });
    const log: string[] = [];
    const lw = new ListWatch<Obj>(
      { client: s.client, path: '/api/v1/services', list: () => s.client.listAll<Obj>('/api/v1/services', {}, 500, (o) => o) },
      {
        upsert: (o) => log.push(`upsert ${o.metadata.name}@${o.metadata.resourceVersion}`),
        delete: (o) => log.push(`delete ${o.metadata.name}`),
        error: (e) => log.push(`error ${String(e)}`),
      },
    );
    try {
      await lw.start();
      await until('the second watch deletes b', () => log.includes('delete b'));
      expect(log).to.deep.equal(['upsert a@5', 'upsert b@11', 'upsert a@12', 'delete b']);
      const w = s.requests.filter((u) => u.searchParams.get('watch'));
      expect(w.map((u) => u.searchParams.get('resourceVersion'))).to.deep.equal(['10', '12']);
      expect(w[0]!.searchParams.get('allowWatchBookmarks')).to.equal('true');
      expect(Number(w[0]!.searchParams.get('timeoutSeconds'))).to.be.within(300, 599);
      expect(lw.list().map((o) => o.metadata.name)).to.deep.equal(['a']);
    } finally {
      lw.stop();
      await s.close();
    }
  });

  it('410 Gone in the watch relists (after a random 0.5-1.5 s): objects gone from the list are deleted, unchanged ones keep their very object', async () => {
    let lists = 0;
    const s = await stub((url, res) => {
      if (!url.searchParams.get('watch')) {
        lists += 1;
        json(
          res,
          200,
          lists === 1
            ? { items: [obj('a', '5'), obj('b', '6')], metadata: { resourceVersion: '10' } }
            : { items: [obj('a', '5'), obj('c', '20')], metadata: { resourceVersion: '21' } },
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      if (url.searchParams.get('resourceVersion') === '10') {
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
      }
    });
    const log: string[] = [];
    const lw = new ListWatch<Obj>(
      { client: s.client, path: '/api/v1/services', list: () => s.client.listAll<Obj>('/api/v1/services', {}, 500, (o) => o) },
      {
        upsert: (o) => log.push(`upsert ${o.metadata.name}`),
        delete: (o) => log.push(`delete ${o.metadata.name}`),
        error: (e) => log.push(`error ${String(e)}`),
      },
    );
    try {
      await lw.start();
      const first = lw.list().find((o) => o.metadata.name === 'a');
      await until('the relist', () => log.includes('upsert c'));
      const [firstList, relist] = s.times.filter((_t, i) => !s.requests[i]!.searchParams.get('watch'));
      expect(relist! - firstList!).to.be.at.least(450);
      expect(log).to.deep.equal(['upsert a', 'upsert b', 'delete b', 'upsert c']);
      expect(lw.list().find((o) => o.metadata.name === 'a')).to.equal(first);
      await until('the watch from the relist', () => s.requests.some((u) => u.searchParams.get('resourceVersion') === '21'));
    } finally {
      lw.stop();
      await s.close();
    }
  });

  it('a watch refused (403) or cut mid-answer is reported once and the ListWatch stops (its owner retries with back-off)', async () => {
    for (const mode of ['forbidden', 'reset'] as const) {
      const s = await stub((url, res) => {
        if (!url.searchParams.get('watch')) return json(res, 200, { items: [], metadata: { resourceVersion: '1' } });
        if (mode === 'forbidden') return json(res, 403, { kind: 'Status', reason: 'Forbidden', message: 'services is forbidden', code: 403 });
        res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
        res.write('{"type":"ADDED","obj');
        setTimeout(() => res.socket?.destroy(), 20);
      });
      const errors: unknown[] = [];
      const lw = new ListWatch<Obj>(
        { client: s.client, path: '/api/v1/services', list: () => s.client.listAll<Obj>('/api/v1/services', {}, 500, (o) => o) },
        { upsert: () => undefined, delete: () => undefined, error: (e) => errors.push(e) },
      );
      try {
        await lw.start();
        await until(`${mode}: the error`, () => errors.length > 0);
        await new Promise((r) => setTimeout(r, 100));
        expect(errors, mode).to.have.length(1);
        if (mode === 'forbidden') expect((errors[0] as KubeApiError).code).to.equal(403);
        expect(
          s.requests.filter((u) => u.searchParams.get('watch')),
          mode,
        ).to.have.length(1);
      } finally {
        lw.stop();
        await s.close();
      }
    }
  });

  /** A ListWatch over the stub that records upserts, deletes and errors. */
  const recorder = (client: KubeClient): { lw: ListWatch<Obj>; log: string[]; errors: unknown[] } => {
    const log: string[] = [];
    const errors: unknown[] = [];
    const lw = new ListWatch<Obj>(
      { client, path: '/api/v1/services', list: () => client.listAll<Obj>('/api/v1/services', {}, 1, (o) => o) },
      { upsert: (o) => log.push(`upsert ${o.metadata.name}`), delete: (o) => log.push(`delete ${o.metadata.name}`), error: (e) => errors.push(e) },
    );
    return { lw, log, errors };
  };

  it('an ERROR event of another code (500 from a broken conversion webhook) is an error, reported once: no watch again at once', async () => {
    const s = await stub((url, res) => {
      if (!url.searchParams.get('watch')) return json(res, 200, { items: [obj('a', '5')], metadata: { resourceVersion: '10' } });
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, reason: 'InternalError', message: 'conversion webhook for svcbgp.io/v1alpha1 failed' } })}\n`,
      );
    });
    const { lw, errors } = recorder(s.client);
    try {
      await lw.start();
      await until('the error', () => errors.length > 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.be.instanceOf(KubeApiError);
      expect((errors[0] as KubeApiError).code).to.equal(500);
      expect((errors[0] as KubeApiError).message).to.contain('conversion webhook');
      expect(s.requests.filter((u) => u.searchParams.get('watch'))).to.have.length(1);
      expect(lw.list().map((o) => o.metadata.name)).to.deep.equal(['a']);
    } finally {
      lw.stop();
      await s.close();
    }
  });

  it('a watch the server ends at once without an event (a proxy, a server shutting down) is an error, not a loop', async () => {
    const s = await stub((url, res) => {
      if (!url.searchParams.get('watch')) return json(res, 200, { items: [], metadata: { resourceVersion: '10' } });
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      res.end();
    });
    const { lw, errors } = recorder(s.client);
    try {
      await lw.start();
      await until('the error', () => errors.length > 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(errors).to.have.length(1);
      expect(String(errors[0])).to.contain('ended it at once without an event');
      expect(s.requests.filter((u) => u.searchParams.get('watch'))).to.have.length(1);
    } finally {
      lw.stop();
      await s.close();
    }
  });

  it('410 on a continue page (the snapshot expired mid-list) lists again from the start, without an error', async () => {
    let lists = 0;
    const s = await stub((url, res) => {
      if (url.searchParams.get('watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
        return;
      }
      const cont = url.searchParams.get('continue');
      if (!cont) {
        lists += 1;
        return json(res, 200, { items: [obj('a', String(lists))], metadata: { resourceVersion: `${lists}0`, continue: `t${lists}` } });
      }
      if (cont === 't1') return json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'The provided continue parameter is too old' });
      return json(res, 200, { items: [obj('b', '21')], metadata: { resourceVersion: '20' } });
    });
    const { lw, log, errors } = recorder(s.client);
    try {
      await lw.start();
      expect(errors).to.deep.equal([]);
      expect(log).to.deep.equal(['upsert a', 'upsert b']);
      expect(lw.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)).to.deep.equal(['a@2', 'b@21']);
      expect(s.requests.find((u) => u.searchParams.get('watch'))?.searchParams.get('resourceVersion')).to.equal('20');
    } finally {
      lw.stop();
      await s.close();
    }
  });

  it('a watch request never answered fails after the header timeout; one open past its timeoutSeconds fails at the deadline', async () => {
    for (const mode of ['no answer', 'stalled'] as const) {
      const s = await stub(
        (_url, res) => {
          // Accepted and never answered / answered and then silent, with the connection alive.
          if (mode === 'stalled') res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
        },
        { watchHeaderTimeoutMs: 200, watchDeadlineSlackMs: 200 },
      );
      try {
        const started = Date.now();
        const err = await new Promise<Error | null>((resolveDone) => {
          void s.client.watch('/api/v1/services', { timeoutSeconds: mode === 'stalled' ? 1 : 300 }, () => undefined, resolveDone);
        });
        expect(err?.message, mode).to.contain(mode === 'stalled' ? 'still open 0.2 s after its timeout of 1 s' : 'no answer in 0.2 s');
        expect(Date.now() - started, mode).to.be.at.least(mode === 'stalled' ? 1150 : 150);
      } finally {
        await s.close();
      }
    }
  });

  it('a line that is JSON but not an event fails the watch (no exception in the socket handler)', async () => {
    const s = await stub((_url, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      res.write('null\n');
    });
    try {
      const err = await new Promise<Error | null>((resolveDone) => {
        void s.client.watch('/api/v1/services', {}, () => undefined, resolveDone);
      });
      expect(err?.message).to.contain('an event without a type');
    } finally {
      await s.close();
    }
  });

  it('WatchedCache records the keys of what changed (an object that moves names both keys) and finds objects by key', async () => {
    let watch: http.ServerResponse | undefined;
    const s = await stub((url, res) => {
      if (!url.searchParams.get('watch')) {
        json(res, 200, { items: [obj('a', '5', 1), obj('b', '6', 2)], metadata: { resourceVersion: '10' } });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      watch ??= res;
    });
    const c = new WatchedCache<Obj>({
      name: 'endpointslices',
      client: s.client,
      path: '/api/v1/services',
      log: silentLogger(),
      onChange: () => undefined,
      keyOf: (o) => `ns/svc-${o.spec?.n ?? 0}`,
    });
    try {
      await c.start();
      expect([...c.takeChanged()].sort()).to.deep.equal(['ns/svc-1', 'ns/svc-2']);
      await until('the watch is open', () => watch !== undefined);
      watch!.write(`${JSON.stringify({ type: 'MODIFIED', object: obj('a', '11', 2) })}\n`);
      watch!.write(`${JSON.stringify({ type: 'DELETED', object: obj('b', '12', 2) })}\n`);
      await until('b is deleted', () => c.list().length === 1);
      expect([...c.takeChanged()].sort()).to.deep.equal(['ns/svc-1', 'ns/svc-2']);
      expect(c.takeChanged().size).to.equal(0);
      expect(c.byKey('ns/svc-1')).to.deep.equal([]);
      expect(c.byKey('ns/svc-2').map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`)).to.deep.equal(['a@11']);
    } finally {
      await c.stop();
      await s.close();
    }
  });

  describe('WatchedCache retries with back-off', () => {
    const cache = (client: KubeClient): WatchedCache<Obj> =>
      new WatchedCache<Obj>({
        name: 'services',
        client,
        path: '/api/v1/services',
        log: silentLogger(),
        onChange: () => undefined,
        minBackoffMs: 20,
        maxBackoffMs: 400,
      });

    it('a watch that opens and fails at once, over and over, backs off like one that never opens (no reset on each open)', async () => {
      const s = await stub((url, res) => {
        if (!url.searchParams.get('watch')) return json(res, 200, { items: [], metadata: { resourceVersion: '10' } });
        res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
        res.write('{"type":"ADD');
        setTimeout(() => res.socket?.destroy(), 5);
      });
      const c = cache(s.client);
      try {
        await c.start();
        await new Promise((r) => setTimeout(r, 1500));
        const watches = s.requests.filter((u) => u.searchParams.get('watch')).length;
        // Doubling from 20 ms to 400 ms, each wait at least half its step: at most ~10 attempts in 1.5 s. A back-off
        // reset whenever the watch opened would retry every 20 ms: ~50 or more.
        expect(watches).to.be.within(3, 14);
      } finally {
        await c.stop();
        await s.close();
      }
    });

    it('429 Too Many Requests with Retry-After: the next attempt waits at least that long', async () => {
      let lists = 0;
      const s = await stub((url, res) => {
        if (url.searchParams.get('watch')) {
          res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
          return;
        }
        lists += 1;
        if (lists === 1) {
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
          res.end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'too many requests, please try again later' }));
          return;
        }
        json(res, 200, { items: [obj('a', '5')], metadata: { resourceVersion: '10' } });
      });
      const c = cache(s.client);
      try {
        await c.start();
        await until('the second list', () => c.synced);
        const listTimes = s.times.filter((_t, i) => !s.requests[i]!.searchParams.get('watch'));
        expect(listTimes[1]! - listTimes[0]!).to.be.at.least(950);
      } finally {
        await c.stop();
        await s.close();
      }
    });
  });
});
