/**
 * gobgpd runs on the host network (deploy/40-daemonset.yaml), so every port it opens is a port on every node. Started
 * with the DaemonSet's flags (test/helpers/gobgpd-flags.ts), the gobgpd under test (SVCBGP_GOBGPD; the matrix runs
 * this file on every supported version) listens on its API socket, and on its BGP port once svcbgp has started BGP,
 * and on nothing else: in particular no HTTP server on 127.0.0.1:6060, where gobgpd serves pprof and, from 3.14 on, its
 * Prometheus metrics, unless both are turned off (cmd/gobgpd/main.go: --pprof-disable AND --metrics-path=).
 * Seen with `ss` in a network namespace of its own, where gobgpd is the only process: every listener there is its.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connectGobgp } from '../../../src/gobgp/index.js';
import { deleteNetns, GOBGPD_VERSION, startGobgpd, waitFor, type Gobgpd } from '../../helpers/gobgpd.js';

interface Listener {
  /** tcp, udp, u_str, ... as ss prints it. */
  netid: string;
  /** Address and port, or the socket's path. */
  local: string;
}

/** Every listening TCP, UDP and unix socket in network namespace `ns`. */
function listeners(ns: string): Listener[] {
  const ss = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'ss', '-H', ...args], { encoding: 'utf8' });
  return [...ss('-ltun').split('\n'), ...ss('-lx').split('\n')]
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 5)
    .map(([netid, , , , local]) => ({ netid: netid!, local: local! }));
}

const tcpAndUdp = (ls: Listener[]) =>
  ls
    .filter((l) => l.netid === 'tcp' || l.netid === 'udp')
    .map((l) => `${l.netid} ${l.local}`)
    .sort();
const unixPaths = (ls: Listener[]) => ls.filter((l) => l.netid.startsWith('u_')).map((l) => l.local);

/** gobgpd's HTTP server starts in a goroutine beside the API: give it time to show before saying it is not there. */
const settle = () => new Promise((r) => setTimeout(r, 1000));

let seq = 0;

describe(`gobgpd ${GOBGPD_VERSION.name} with the DaemonSet's flags listens on nothing but its BGP port and its API socket`, function () {
  this.timeout(60_000);
  let ns = '';
  let d: Gobgpd | undefined;

  beforeEach(function () {
    ns = `svcbgp-listen-${process.pid}-${seq++}`;
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`--- gobgpd ---\n${d?.log().slice(-3000)}\n`);
    await d?.stop('SIGKILL');
    d = undefined;
    deleteNetns(ns);
  });

  const socketPath = (g: Gobgpd) => g.apiAddress.slice('unix://'.length);

  it('before BGP is started: the API socket, and no TCP or UDP port', async function () {
    d = await startGobgpd({ name: 'listen', netns: ns });
    await settle();
    const ls = listeners(ns);
    expect(tcpAndUdp(ls)).to.deep.equal([]);
    expect(unixPaths(ls)).to.deep.equal([socketPath(d)]);
    // What ran is the DaemonSet's command line (3.10 has no metrics server, and no --metrics-path to give it).
    const argv = readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).to.include('--pprof-disable');
    if (GOBGPD_VERSION.metricsServer) expect(argv).to.include('--metrics-path=');
  });

  it('after svcbgp starts BGP on port 179 (what the agent does): TCP 179 on IPv4 and IPv6 and the API socket, nothing else', async function () {
    d = await startGobgpd({ name: 'listen', netns: ns });
    const client = connectGobgp(d.apiAddress, { deadlineMs: 5000 });
    try {
      await client.startBgp({ asn: 64512, routerId: '192.0.2.10', listenPort: 179 });
    } finally {
      client.close();
    }
    await waitFor('gobgpd to listen on 179', async () => (tcpAndUdp(listeners(ns)).length > 0 ? true : undefined), 10_000, 100);
    await settle();
    const ls = listeners(ns);
    expect(tcpAndUdp(ls)).to.deep.equal(['tcp 0.0.0.0:179', 'tcp [::]:179']);
    expect(unixPaths(ls)).to.deep.equal([socketPath(d)]);
  });

  it('control: without --pprof-disable and --metrics-path= the same gobgpd listens on 127.0.0.1:6060 (what is looked for above can be seen)', async function () {
    d = await startGobgpd({ name: 'listen', netns: ns, withoutFlags: ['--pprof-disable', '--metrics-path'] });
    await waitFor('gobgpd to listen on 6060', async () => (tcpAndUdp(listeners(ns)).length > 0 ? true : undefined), 10_000, 100);
    expect(tcpAndUdp(listeners(ns))).to.deep.equal(['tcp 127.0.0.1:6060']);
  });
});
