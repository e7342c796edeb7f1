import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLab } from './choose-lab.ts';

const machine = (docker: boolean, root: boolean) => ({ docker: () => docker, root: () => root });

describe('choosing the lab', () => {
  it('auto: Docker when an engine answers, else namespaces as root, else loopback', () => {
    assert.equal(chooseLab('auto', machine(true, true)).backend, 'containers');
    assert.equal(chooseLab('auto', machine(true, false)).backend, 'containers');
    assert.equal(chooseLab('auto', machine(false, true)).backend, 'namespaces');
    assert.equal(chooseLab('auto', machine(false, false)).backend, 'loopback');
    assert.match(chooseLab('auto', machine(false, false)).why, /not root/);
  });

  it('a forced choice wins, and namespaces without root fails clearly', () => {
    assert.equal(chooseLab('namespaces', machine(true, true)).backend, 'namespaces');
    assert.equal(chooseLab('loopback', machine(true, true)).backend, 'loopback');
    assert.equal(chooseLab('containers', machine(false, false)).backend, 'containers');
    assert.throws(() => chooseLab('namespaces', machine(true, false)), { code: 'LAB_ERR_CONFIG', message: /needs root/ });
  });
});
