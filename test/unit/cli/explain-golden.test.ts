/**
 * `svcbgp explain`, whole outputs as golden files (test/golden/explain/*.golden): what an operator reads, reviewed as
 * a diff when it changes. The inputs are fixture files (the seed article's configurations and cluster dump,
 * test/fixtures/seed/; a dump with attribute annotations, test/fixtures/explain/), read by the command's own I/O
 * shell in-process; nothing in the output depends on the time or the machine but the repository path, which is
 * cut from the file names shown. SVCBGP_UPDATE_GOLDEN=1 rewrites the files (docs/testing.md#golden-files).
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { runExplain, type ExplainOptions } from '../../../src/cli/explain.js';
import { expectGolden, repoRoot } from '../../helpers/golden.js';

const ROOT = repoRoot();

/** Runs `svcbgp explain` with repository-relative file names; returns stdout with the repository path cut. */
async function explainOutput(opts: { config: string; cluster: string; node: string; nodeLabels?: string; output?: string }): Promise<string> {
  let stdout = '';
  let stderr = '';
  const args: ExplainOptions = {
    config: join(ROOT, opts.config),
    cluster: join(ROOT, opts.cluster),
    node: opts.node,
    output: opts.output ?? 'text',
    ...(opts.nodeLabels !== undefined ? { nodeLabels: opts.nodeLabels } : {}),
  };
  const code = await runExplain(
    args,
    (s) => (stdout += s),
    (s) => (stderr += s),
  );
  expect(code, stderr).to.equal(0);
  expect(stderr, 'explain wrote to stderr').to.equal('');
  return stdout.split(`${ROOT}/`).join('');
}

const SEED_DUMP = 'test/fixtures/seed/cluster-dump.yaml';
const CLUSTER_IPS = 'test/fixtures/seed/config-cluster-ips.yaml';
const EXTERNAL_IPS = 'test/fixtures/seed/config-external-ips.yaml';

describe('svcbgp explain: golden outputs', () => {
  it('the seed cluster IP range on node-1: the aggregate for Cluster-policy Services; nginx (Local) withheld, no endpoint here; the external IP refused', async () => {
    expectGolden('explain/cluster-ips-node-1', await explainOutput({ config: CLUSTER_IPS, cluster: SEED_DUMP, node: 'node-1' }));
  });

  it('the seed cluster IP range on node-2: nginx runs here, so its cluster IP /32 beside the aggregate', async () => {
    expectGolden('explain/cluster-ips-node-2', await explainOutput({ config: CLUSTER_IPS, cluster: SEED_DUMP, node: 'node-2' }));
  });

  it('an excluded node (node.kubernetes.io/exclude-from-external-load-balancers) advertises nothing and says why', async () => {
    const text = await explainOutput({
      config: CLUSTER_IPS,
      cluster: SEED_DUMP,
      node: 'node-2',
      nodeLabels: 'node.kubernetes.io/exclude-from-external-load-balancers=',
    });
    expectGolden('explain/cluster-ips-node-2-excluded', text);
  });

  it('the seed external IP range on node-1: the aggregate only, the external IP withheld; cluster IPs not configured', async () => {
    expectGolden('explain/external-ips-node-1', await explainOutput({ config: EXTERNAL_IPS, cluster: SEED_DUMP, node: 'node-1' }));
  });

  it('the seed external IP range on node-2: 192.168.3.180/32 beside the aggregate', async () => {
    expectGolden('explain/external-ips-node-2', await explainOutput({ config: EXTERNAL_IPS, cluster: SEED_DUMP, node: 'node-2' }));
  });

  it('the seed external IP range on node-2 as JSON (the stable machine-readable form)', async () => {
    expectGolden('explain/external-ips-node-2.json', await explainOutput({ config: EXTERNAL_IPS, cluster: SEED_DUMP, node: 'node-2', output: 'json' }));
  });

  it('Services with attribute annotations: carried by a Local /32, refused outside serviceAttributeLimits, not applicable under an aggregate', async () => {
    const text = await explainOutput({
      config: 'test/fixtures/explain/config-communities.yaml',
      cluster: 'test/fixtures/explain/communities-dump.yaml',
      node: 'node-1',
    });
    expectGolden('explain/communities-node-1', text);
  });
});
