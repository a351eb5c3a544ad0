import { expect } from 'chai';
import { parseGobgpAddress } from '../../../src/gobgp/address.js';

describe('gobgpd API address', function () {
  it('accepts loopback host:port and unix sockets', function () {
    expect(parseGobgpAddress('127.0.0.1:50051')).to.equal('127.0.0.1:50051');
    expect(parseGobgpAddress('[::1]:50051')).to.equal('[::1]:50051');
    expect(parseGobgpAddress('localhost:50051')).to.equal('localhost:50051');
    expect(parseGobgpAddress('unix:///run/gobgp/gobgp.sock')).to.equal('unix:///run/gobgp/gobgp.sock');
    expect(parseGobgpAddress('unix:/run/gobgp/gobgp.sock')).to.equal('unix:///run/gobgp/gobgp.sock');
  });
  it('refuses non-loopback addresses (gobgpd has no API authentication)', function () {
    expect(() => parseGobgpAddress('10.0.0.1:50051')).to.throw(/no authentication, use a loopback address or a unix socket/);
    expect(() => parseGobgpAddress('0.0.0.0:50051')).to.throw(/refusing/);
  });
  it('says what it expects for malformed input', function () {
    expect(() => parseGobgpAddress('127.0.0.1')).to.throw(/expected host:port/);
    expect(() => parseGobgpAddress('127.0.0.1:99999')).to.throw(/expected host:port/);
    expect(() => parseGobgpAddress('unix://relative.sock')).to.throw(/absolute path/);
  });
});
