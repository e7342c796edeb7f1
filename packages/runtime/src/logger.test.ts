import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Logger } from './logger.ts';

function capture(format: 'json' | 'pretty', level: 'info' | 'warn' = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { log: new Logger({ service: 'svc', format, level, stream }), lines };
}

describe('Logger', () => {
  it('writes one JSON object per line with a stable event name and 64-bit numbers as strings', () => {
    const { log, lines } = capture('json');
    log.info('listening', { msg: 'listening on tcp 0.0.0.0:9000', port: 9000, seq: 2n ** 64n - 1n });
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.service, 'svc');
    assert.equal(entry.event, 'listening');
    assert.equal(entry.level, 'info');
    assert.equal(entry.seq, '18446744073709551615');
  });

  it('prints the sentence on a terminal, without repeating the fields it spells out', () => {
    const { log, lines } = capture('pretty');
    log.info('accept', { msg: 'accepted 10.0.0.2:4000', address: '10.0.0.2', port: 4000, clean: true, attempt: 2 });
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO  svc accepted 10\.0\.0\.2:4000 clean=true attempt=2$/);
    log.info('listening', { msg: 'listening on tcp [::]:9000', endpoint: '[::]:9000', backlog: 511 });
    assert.match(lines[1]!, /INFO  svc listening on tcp \[::\]:9000 backlog=511$/);
  });

  it('drops entries below the level', () => {
    const { log, lines } = capture('json', 'warn');
    log.info('quiet');
    log.warn('loud');
    assert.deepEqual(lines.map((l) => JSON.parse(l).event), ['loud']);
  });
});
