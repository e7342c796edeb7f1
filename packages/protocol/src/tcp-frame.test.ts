import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrameHeader, FrameDecoder, type FrameEvent } from './tcp-frame.ts';
import { bodyLengthOf, clientMessageSchema, type ClientMessage } from './tcp-messages.ts';

const sha = 'ab'.repeat(32);

function decoder(maxHeaderBytes?: number): FrameDecoder<ClientMessage> {
  return new FrameDecoder({ schema: clientMessageSchema, bodyLength: bodyLengthOf, ...(maxHeaderBytes ? { maxHeaderBytes } : {}) });
}

/** Merges adjacent body slices so that results can be compared whatever the chunking was. */
function normalize(events: FrameEvent<ClientMessage>[]): unknown[] {
  const out: unknown[] = [];
  for (const event of events) {
    const last = out.at(-1) as { kind: string; data?: Buffer } | undefined;
    if (event.kind === 'body' && last?.kind === 'body') last.data = Buffer.concat([last.data!, event.data]);
    else if (event.kind === 'body') out.push({ kind: 'body', data: Buffer.from(event.data) });
    else if (event.kind === 'error') out.push({ kind: 'error', code: event.error.code });
    else out.push(event);
  }
  return out;
}

function feed(d: FrameDecoder<ClientMessage>, chunks: Buffer[]): unknown[] {
  return normalize(chunks.flatMap((chunk) => d.push(chunk)));
}

const body = Buffer.from('hello, reliable byte stream');
const stream = Buffer.concat([
  encodeFrameHeader({ type: 'hello', version: 1 }),
  encodeFrameHeader({ type: 'put', name: 'a.bin', size: body.length, sha256: sha }),
  body,
  encodeFrameHeader({ type: 'put', name: 'empty', size: 0, sha256: sha }),
  encodeFrameHeader({ type: 'get', name: 'a.bin' }),
]);
const expected = [
  { kind: 'message', message: { type: 'hello', version: 1 } },
  { kind: 'message', message: { type: 'put', name: 'a.bin', size: body.length, sha256: sha, offset: 0 } },
  { kind: 'body', data: body },
  { kind: 'body-end' },
  { kind: 'message', message: { type: 'put', name: 'empty', size: 0, sha256: sha, offset: 0 } },
  { kind: 'body-end' },
  { kind: 'message', message: { type: 'get', name: 'a.bin', offset: 0 } },
];

describe('FrameDecoder', () => {
  it('decodes many frames from one chunk', () => {
    const d = decoder();
    assert.deepEqual(feed(d, [stream]), expected);
    assert.equal(d.atBoundary, true);
    assert.equal(d.end(), null);
  });

  it('decodes the same stream fed byte by byte', () => {
    const d = decoder();
    const bytes = [...stream].map((b) => Buffer.from([b]));
    assert.deepEqual(feed(d, bytes), expected);
  });

  it('decodes the same stream split in two at every offset', () => {
    for (let at = 0; at <= stream.length; at++) {
      const d = decoder();
      assert.deepEqual(feed(d, [stream.subarray(0, at), stream.subarray(at)]), expected, `split at ${at}`);
    }
  });

  it('decodes the same stream for any chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 20 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const chunks = points.slice(1).map((end, i) => stream.subarray(points[i]!, end));
        assert.deepEqual(feed(decoder(), chunks), expected);
      }),
    );
  });

  it('round-trips any valid put with any body under any chunking (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,40}$/);
    fc.assert(
      fc.property(name, fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (n, payload, chunkSize) => {
        const message = { type: 'put' as const, name: n, size: payload.length, sha256: sha, offset: 0 };
        const wire = Buffer.concat([encodeFrameHeader(message), payload]);
        const chunks: Buffer[] = [];
        for (let i = 0; i < wire.length; i += chunkSize) chunks.push(wire.subarray(i, i + chunkSize));
        const want: unknown[] = [{ kind: 'message', message }];
        if (payload.length > 0) want.push({ kind: 'body', data: Buffer.from(payload) });
        want.push({ kind: 'body-end' });
        assert.deepEqual(feed(decoder(), chunks), want);
      }),
    );
  });

  it('expects only the bytes after the offset when a put or file resumes', () => {
    const rest = Buffer.from('6789');
    const wire = Buffer.concat([encodeFrameHeader({ type: 'put', name: 'r', size: 10, sha256: sha, offset: 6 }), rest, encodeFrameHeader({ type: 'list' })]);
    assert.deepEqual(feed(decoder(), [wire]), [
      { kind: 'message', message: { type: 'put', name: 'r', size: 10, sha256: sha, offset: 6 } },
      { kind: 'body', data: rest },
      { kind: 'body-end' },
      { kind: 'message', message: { type: 'list' } },
    ]);
    assert.deepEqual(feed(decoder(), [encodeFrameHeader({ type: 'put', name: 'r', size: 1, sha256: sha, offset: 2 })]), [
      { kind: 'error', code: 'LAB_ERR_HEADER_INVALID' },
    ]);
  });

  it('refuses a header above the limit from its 4 length bytes alone, before buffering it', () => {
    const d = decoder(64);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(65);
    const events = d.push(prefix);
    assert.deepEqual(normalize(events), [{ kind: 'error', code: 'LAB_ERR_HEADER_TOO_LARGE' }]);
    assert.equal(d.bufferedBytes, 0);
    assert.deepEqual(d.push(Buffer.alloc(100, 0x41)), [], 'nothing is decoded after a fatal error');
  });

  it('refuses a 4 GiB header declaration without allocating it', () => {
    const d = decoder();
    assert.deepEqual(normalize(d.push(Buffer.from([0xff, 0xff, 0xff, 0xff]))), [
      { kind: 'error', code: 'LAB_ERR_HEADER_TOO_LARGE' },
    ]);
  });

  it('gives a stable code for an empty header, bad JSON, bad UTF-8 and a schema failure', () => {
    const frame = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
    const cases: [Buffer, string][] = [
      [Buffer.from([0, 0, 0, 0]), 'LAB_ERR_HEADER_EMPTY'],
      [frame(Buffer.from('{"type":')), 'LAB_ERR_HEADER_NOT_JSON'],
      [frame(Buffer.from([0x7b, 0xff, 0x7d])), 'LAB_ERR_HEADER_NOT_JSON'],
      [frame(Buffer.from('{"type":"nope"}')), 'LAB_ERR_HEADER_INVALID'],
      
      [frame(Buffer.from('{"type":"get","name":"a","extra":1}')), 'LAB_ERR_HEADER_INVALID'],
      [frame(Buffer.from('{"type":"put","name":"a","size":-1,"sha256":"' + sha + '"}')), 'LAB_ERR_HEADER_INVALID'],
    ];
    for (const [bytes, code] of cases) {
      assert.deepEqual(feed(decoder(), [bytes]), [{ kind: 'error', code }], bytes.toString('hex'));
    }
  });

  it('reports a stream that ends inside a header or a body as truncated', () => {
    const put = Buffer.concat([encodeFrameHeader({ type: 'put', name: 'a', size: 10, sha256: sha }), Buffer.alloc(4)]);
    for (let at = 1; at < put.length; at++) {
      const d = decoder();
      d.push(put.subarray(0, at));
      assert.equal(d.end()?.code, 'LAB_ERR_TRUNCATED', `ended at ${at}`);
    }
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const d = decoder(256);
        for (const chunk of chunks) d.push(Buffer.from(chunk));
        d.end();
      }),
      { numRuns: 2000 },
    );
  });
});
