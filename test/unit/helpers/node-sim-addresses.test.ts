/** The node simulator's pod addresses (test/helpers/kube/node-sim.ts): one per podCIDR family, as a dual-stack CNI gives. */
import { expect } from 'chai';
import { hostAddresses } from '../../helpers/kube/node-sim.js';

const first = (cidr: string, n: number): string[] => {
  const out: string[] = [];
  for (const ip of hostAddresses(cidr)) {
    out.push(ip);
    if (out.length === n) break;
  }
  return out;
};

describe('node simulator: hostAddresses', () => {
  it('IPv4: skips the network address and the bridge (.1), stops before the broadcast address', () => {
    expect(first('10.48.1.0/24', 3)).to.deep.equal(['10.48.1.2', '10.48.1.3', '10.48.1.4']);
    expect([...hostAddresses('10.48.2.0/29')]).to.deep.equal(['10.48.2.2', '10.48.2.3', '10.48.2.4', '10.48.2.5', '10.48.2.6']);
  });

  it('IPv6: a /64 podCIDR from fd00:48::/56 gives ::2, ::3, ... in RFC 5952 form', () => {
    expect(first('fd00:48:0:1::/64', 3)).to.deep.equal(['fd00:48:0:1::2', 'fd00:48:0:1::3', 'fd00:48:0:1::4']);
    expect(first('fd00:48:0:1::/64', 300).at(-1)).to.equal('fd00:48:0:1::12d');
  });

  it('refuses a CIDR it cannot sensibly allocate from', () => {
    expect(() => first('10.0.0.0/31', 1)).to.throw(/unsupported podCIDR/);
    expect(() => first('fd00::/127', 1)).to.throw(/unsupported podCIDR/);
  });
});
