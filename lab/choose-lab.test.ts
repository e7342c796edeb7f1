import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLab, type LabFacts } from './choose-lab.ts';

const machine = (docker: boolean, root: boolean, { netem = false, uml = true } = {}): LabFacts => ({
  docker: () => docker,
  root: () => root,
  hostNetem: () => ({ netem, evidence: netem ? 'tc added a netem qdisc' : 'tc said: Error: Specified qdisc kind is unknown.' }),
  uml: () => uml,
});

describe('choosing the lab', () => {
  it('auto: Docker when an engine answers, else namespaces as root, else loopback', () => {
    assert.equal(chooseLab('auto', [], machine(true, true)).backend, 'containers');
    assert.equal(chooseLab('auto', [], machine(true, false)).backend, 'containers');
    assert.equal(chooseLab('auto', [], machine(false, true)).backend, 'namespaces');
    assert.equal(chooseLab('auto', [], machine(false, false)).backend, 'loopback');
    assert.match(chooseLab('auto', [], machine(false, false)).why, /not root/);
  });

  it('auto: the user-mode Linux lab when the sweep needs netem and this kernel has none, and says why', () => {
    const chosen = chooseLab('auto', ['delay'], machine(true, true));
    assert.equal(chosen.backend, 'uml');
    assert.match(chosen.why, /^delay needs tc netem, which this kernel does not have \(tc said: Error: Specified qdisc kind is unknown\.\)/);
    assert.match(chooseLab('auto', ['delay', 'duplicate'], machine(false, false)).why, /^delay, duplicate need tc netem/);
    assert.equal(chooseLab('auto', ['delay'], machine(true, true, { netem: true })).backend, 'containers', 'a netem kernel needs no guest');
    assert.equal(chooseLab('auto', ['delay'], machine(false, true, { netem: true })).backend, 'namespaces');
    assert.equal(chooseLab('auto', ['delay'], machine(true, true, { uml: false })).backend, 'containers', 'no guest to be had: the lab refuses delay itself, by name');
    assert.equal(chooseLab('auto', [], machine(true, true)).backend, 'containers', 'random loss needs no netem');
  });

  it('a forced choice wins, and namespaces without root fails clearly', () => {
    assert.equal(chooseLab('namespaces', [], machine(true, true)).backend, 'namespaces');
    assert.equal(chooseLab('loopback', [], machine(true, true)).backend, 'loopback');
    assert.equal(chooseLab('containers', ['delay'], machine(false, false)).backend, 'containers');
    assert.equal(chooseLab('uml', [], machine(true, true, { netem: true })).backend, 'uml');
    assert.throws(() => chooseLab('namespaces', [], machine(true, false)), { code: 'LAB_ERR_CONFIG', message: /needs root/ });
  });
});
