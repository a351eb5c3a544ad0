/**
 * The ToR table as golden text (test/helpers/tor-table.ts), and the seed walks' golden files (test/golden/seed*)
 * against the tables the walks assert (test/e2e/seed-article*.test.ts): the files are written by a full seed run
 * with SVCBGP_UPDATE_GOLDEN=1; this check, which needs no root, keeps them saying what the article says.
 */
import { expect } from 'chai';
import { checkGolden, goldenPath } from '../../helpers/golden.js';
import { renderTorTable } from '../../helpers/tor-table.js';
import type { RouteTable } from '../../lab/routes.js';
import {
  CLUSTER_IP_RANGE,
  CLUSTER_IP_RANGE_V6,
  EXTERNAL_IP,
  EXTERNAL_IP_RANGE,
  EXTERNAL_IP_RANGE_V6,
  EXTERNAL_IP_V6,
  SEED_NODES,
} from '../../e2e/seed/article.js';

const ALL_V4 = SEED_NODES.map((n) => n.ipv4);
const ALL_V6 = SEED_NODES.map((n) => n.ipv6);

describe('ToR table as golden text', () => {
  it('one line per route, IPv4 first, next hops in address order; no route at all says so', () => {
    const table: RouteTable = {
      'fd00:49::/112': ['fd00:1::12', 'fd00:1::10'],
      '192.168.3.0/24': ['192.168.1.12', '192.168.1.9', '192.168.1.10'],
      '10.49.0.0/16': ['192.168.1.10'],
    };
    expect(renderTorTable(table)).to.equal(
      ['10.49.0.0/16 via 192.168.1.10', '192.168.3.0/24 via 192.168.1.9 192.168.1.10 192.168.1.12', 'fd00:49::/112 via fd00:1::10 fd00:1::12', ''].join('\n'),
    );
    expect(renderTorTable({})).to.equal('(no BGP routes)\n');
  });

  it('what the cluster chose at run time is shown by name; next hops other than the named set print as addresses', () => {
    const names = { addresses: { '10.49.7.3': 'nginx-cluster-ip' }, nextHopSets: { 'nginx-nodes': ['192.168.1.12', '192.168.1.11'] } };
    expect(renderTorTable({ '10.49.7.3/32': ['192.168.1.11', '192.168.1.12'] }, names)).to.equal('<nginx-cluster-ip>/32 via <nginx-nodes>\n');
    expect(renderTorTable({ '10.49.7.3/32': ['192.168.1.10', '192.168.1.11'] }, names)).to.equal('<nginx-cluster-ip>/32 via 192.168.1.10 192.168.1.11\n');
  });
});

/** A sample run: nginx on node-2 and node-3, these cluster IPs (any others render the same). */
const NGINX_V4 = ['192.168.1.11', '192.168.1.12'];
const NGINX_V6 = ['fd00:1::11', 'fd00:1::12'];
const [C4, C6] = ['10.49.62.131', 'fd00:49::3e83'];
const NAMES = { addresses: { [C4]: 'nginx-cluster-ip', [C6]: 'nginx-cluster-ipv6' }, nextHopSets: { 'nginx-nodes': NGINX_V4, 'nginx-nodes-ipv6': NGINX_V6 } };

/** The ToR tables test/e2e/seed-article.test.ts asserts, step by step. */
const IPV4_WALK: Record<string, RouteTable> = {
  'step-2': { [CLUSTER_IP_RANGE]: ALL_V4 },
  'step-4': { [CLUSTER_IP_RANGE]: ALL_V4, [`${C4}/32`]: NGINX_V4 },
  'step-5': { [EXTERNAL_IP_RANGE]: ALL_V4 },
  'step-6': { [EXTERNAL_IP_RANGE]: ALL_V4, [`${EXTERNAL_IP}/32`]: NGINX_V4 },
};

/** The ToR tables test/e2e/seed-article-dual-stack.test.ts asserts, step by step. */
const DUAL_STACK_WALK: Record<string, RouteTable> = {
  'step-2': { [CLUSTER_IP_RANGE]: ALL_V4, [CLUSTER_IP_RANGE_V6]: ALL_V6 },
  'step-4': { [CLUSTER_IP_RANGE]: ALL_V4, [CLUSTER_IP_RANGE_V6]: ALL_V6, [`${C4}/32`]: NGINX_V4, [`${C6}/128`]: NGINX_V6 },
  'step-5': { [EXTERNAL_IP_RANGE]: ALL_V4, [EXTERNAL_IP_RANGE_V6]: ALL_V6 },
  'step-6': { [EXTERNAL_IP_RANGE]: ALL_V4, [EXTERNAL_IP_RANGE_V6]: ALL_V6, [`${EXTERNAL_IP}/32`]: NGINX_V4, [`${EXTERNAL_IP_V6}/128`]: NGINX_V6 },
};

describe("the seed walks' golden ToR tables say what the walks assert", () => {
  // Every ToR the walks may run against (FRR with a dual-stack ToR in the IPv4 walk only under SVCBGP_SEED_ALL=1).
  for (const tor of ['bird', 'bird-ipv4-only', 'frr', 'frr-ipv4-only']) {
    for (const [step, table] of Object.entries(IPV4_WALK)) {
      it(`seed/${step}-${tor}`, () => {
        // Compared, never written: the update flag is for the walk itself, which renders what the ToR really holds.
        checkGolden(goldenPath(`seed/${step}-${tor}`), renderTorTable(table, NAMES), false);
      });
    }
  }
  for (const tor of ['bird', 'frr']) {
    for (const [step, table] of Object.entries(DUAL_STACK_WALK)) {
      it(`seed-dual-stack/${step}-${tor}`, () => {
        checkGolden(goldenPath(`seed-dual-stack/${step}-${tor}`), renderTorTable(table, NAMES), false);
      });
    }
  }
});
