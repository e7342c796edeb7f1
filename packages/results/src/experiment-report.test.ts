import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { experimentReportJsonSchema, experimentReportSchema } from './experiment-report.ts';

const sample = {
  schema: 'tcp-udp-lab/experiment',
  version: 1,
  ok: true,
  tcp: {
    name: 'x.bin',
    bytes: 10,
    sha256: 'a'.repeat(64),
    uploadMs: 1,
    uploadMbitPerS: 2,
    stored: { size: 10, sha256: 'a'.repeat(64) },
    downloadMs: 1,
    downloadMbitPerS: 2,
    downloaded: { size: 10, sha256: 'a'.repeat(64), declaredSha256: 'a'.repeat(64) },
    identical: true,
    localPort: 43210,
    segments: { out: 20, retransmitted: 0 },
    connection: null,
    idleRttMs: null,
    wire: null,
  },
  udp: { error: { code: 'LAB_ERR_JOIN_TIMEOUT', message: 'no answer' } },
  chat: null,
};

describe('experiment report schema', () => {
  it('accepts a report and refuses one with a field it does not know', () => {
    assert.equal(experimentReportSchema.safeParse(sample).success, true);
    assert.equal(experimentReportSchema.safeParse({ ...sample, extra: 1 }).success, false);
    assert.equal(experimentReportSchema.safeParse({ ...sample, version: 2 }).success, false);
  });

  it('matches the JSON Schema committed in docs/ (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../docs/experiment-result.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(experimentReportJsonSchema())));
  });
});
