/**
 * The public-address rule behind webhook targets, address by address: every special-purpose
 * range is refused with its name, IPv6 forms carrying an IPv4 address are judged by it, and the
 * operator's allow-list matches names, addresses and ranges exactly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HostAllowList, isAllowEntry } from '../../src/net/host-allow-list.ts';
import { classifyAddress, isLocalhostName } from '../../src/net/public-address.ts';

const REFUSED: Array<[string, RegExp]> = [
  ['127.0.0.1', /loopback/],
  ['127.255.0.9', /loopback/],
  ['::1', /loopback/],
  ['10.1.2.3', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.0.1', /private/],
  ['169.254.169.254', /link-local.*metadata/],
  ['fe80::1', /link-local/],
  ['fc00::1', /unique-local/],
  ['fd12:3456::1', /unique-local/],
  ['fec0::1', /site-local/],
  ['100.64.0.1', /carrier-grade NAT/],
  ['100.127.255.254', /carrier-grade NAT/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['ff02::1', /multicast/],
  ['0.0.0.0', /unspecified/],
  ['0.1.2.3', /unspecified/],
  ['::', /unspecified/],
  ['255.255.255.255', /broadcast/],
  ['240.0.0.1', /reserved/],
  ['192.0.2.1', /reserved/],
  ['198.18.0.1', /reserved/],
  ['2001:db8::1', /reserved/],
  ['100::1', /discard/],
  // IPv6 that carries an IPv4 address: judged by the IPv4 address.
  ['::ffff:127.0.0.1', /loopback.*embedded/],
  ['::ffff:7f00:1', /loopback.*embedded/],
  ['::ffff:169.254.169.254', /link-local.*embedded/],
  ['::ffff:10.0.0.1', /private.*embedded/],
  ['::ffff:0:7f00:1', /loopback.*embedded/], // IPv4-translated (RFC 6145)
  ['64:ff9b::a9fe:a9fe', /link-local.*embedded/], // NAT64 of 169.254.169.254
  ['64:ff9b::7f00:1', /loopback.*embedded/],
  ['64:ff9b:1::1', /local-use NAT64/],
  ['2002:7f00:1::', /loopback.*embedded/], // 6to4 of 127.0.0.1
  ['2002:a00:1::1', /private.*embedded/],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', /loopback.*embedded/], // Teredo, client 127.0.0.1
  ['2001:0:a00:1:8000:63bf:f7f7:f7f7', /private.*embedded/], // Teredo, server 10.0.0.1
  ['::7f00:1', /IPv4-compatible/],
  ['::8.8.8.8', /IPv4-compatible/],
  ['not-an-ip', /not an IP address/],
  ['127.1', /not an IP address/],
];

const PUBLIC = [
  '1.1.1.1',
  '8.8.8.8',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:80b::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo, client 8.8.8.8
];

describe('classifyAddress', () => {
  for (const [ip, why] of REFUSED) {
    test(`refuses ${ip}`, () => {
      const v = classifyAddress(ip);
      assert.equal(v.public, false);
      assert.match((v as { reason: string }).reason, why);
    });
  }
  test('public unicast addresses pass', () => {
    for (const ip of PUBLIC) assert.deepEqual(classifyAddress(ip), { public: true }, ip);
  });
});

test('localhost and every name under it are the machine itself', () => {
  for (const h of ['localhost', 'LOCALHOST', 'localhost.', 'a.localhost', 'x.y.localhost.']) assert.equal(isLocalhostName(h), true, h);
  for (const h of ['localhost.example.com', 'mylocalhost', 'example.com']) assert.equal(isLocalhostName(h), false, h);
});

test('the allow-list matches names exactly, addresses and CIDR ranges', () => {
  const allow = new HostAllowList(['Hooks.Internal', '10.0.0.5', '192.168.10.0/24', '[fd00::1]', '::1']);
  assert.equal(allow.hasName('hooks.internal'), true);
  assert.equal(allow.hasName('HOOKS.internal.'), true);
  assert.equal(allow.hasName('a.hooks.internal'), false, 'no subdomains');
  assert.equal(allow.hasName('10.0.0.5'), false, 'addresses are not names');
  assert.equal(allow.hasAddress('10.0.0.5'), true);
  assert.equal(allow.hasAddress('::ffff:10.0.0.5'), true, 'IPv4-mapped counts as its IPv4');
  assert.equal(allow.hasAddress('10.0.0.6'), false);
  assert.equal(allow.hasAddress('192.168.10.77'), true);
  assert.equal(allow.hasAddress('192.168.11.1'), false);
  assert.equal(allow.hasAddress('fd00::1'), true);
  assert.equal(allow.hasAddress('::1'), true);
  assert.equal(allow.hasAddress('127.0.0.1'), false);
  assert.equal(new HostAllowList([]).hasAddress('10.0.0.5'), false);
});

test('allow-list entries are names, addresses or ranges', () => {
  for (const e of ['hooks.internal', 'svc_1.corp', '10.0.0.5', '10.0.0.0/8', 'fd00::/8', '[::1]', 'localhost'])
    assert.equal(isAllowEntry(e), true, e);
  for (const e of ['', 'http://hooks.internal', 'a b', 'hooks.internal:8080', '10.0.0.0/33']) assert.equal(isAllowEntry(e), false, e);
});
