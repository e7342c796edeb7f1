import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointListSchema, endpointSchema, formatEndpoint, formatHostPort } from './endpoint.ts';

describe('endpointSchema', () => {
  it('parses IPv4, host names, bracketed IPv6 and Unix socket paths', () => {
    assert.deepEqual(endpointSchema.parse('0.0.0.0:9000'), { kind: 'tcp', host: '0.0.0.0', port: 9000 });
    assert.deepEqual(endpointSchema.parse('tcp-server:9000'), { kind: 'tcp', host: 'tcp-server', port: 9000 });
    assert.deepEqual(endpointSchema.parse('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
    assert.deepEqual(endpointSchema.parse('unix:/run/lab/tcp.sock'), { kind: 'unix', path: '/run/lab/tcp.sock' });
  });

  it('refuses what is not an endpoint', () => {
    for (const bad of ['', '9000', 'host', '::1:9000', '[nope]:1', 'host:70000', 'unix:relative', `unix:/${'x'.repeat(107)}`, 'a:b:1']) {
      assert.equal(endpointSchema.safeParse(bad).success, false, bad);
    }
  });

  it('parses a list and formats endpoints back', () => {
    const list = endpointListSchema.parse('0.0.0.0:9000, [::]:9000,unix:/tmp/x.sock');
    assert.deepEqual(list.map(formatEndpoint), ['0.0.0.0:9000', '[::]:9000', 'unix:/tmp/x.sock']);
    assert.equal(formatHostPort('::1', 53), '[::1]:53');
    assert.equal(formatHostPort('10.0.0.2', 53), '10.0.0.2:53');
    assert.equal(endpointListSchema.safeParse('').success, false);
  });
});
