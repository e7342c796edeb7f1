import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabError, type ClientMessage } from '@lab/protocol';
import { ConnectionCore, type Action } from './connection-core.ts';

const sha256 = 'a'.repeat(64);

/** A core past hello, and a switch to make the server stop. */
function greeted(maxFileBytes = 1000): { core: ConnectionCore; stop: () => void } {
  let draining = false;
  const core = new ConnectionCore({ maxFileBytes, serverName: 'test', draining: () => draining });
  assert.deepEqual(core.message({ type: 'hello', version: 1 }), [{ kind: 'send', message: { type: 'welcome', version: 1, server: 'test', maxFileBytes } }]);
  return { core, stop: () => (draining = true) };
}

/** The actions as short words, errors as their codes: what a test reads at a glance. */
function summary(actions: Action[]): string[] {
  return actions.map((a) => {
    if (a.kind === 'send') return `send ${a.message.type}`;
    if (a.kind === 'refuse' || a.kind === 'vanished') return `${a.kind} ${a.error.code}`;
    if (a.kind === 'work') return `work ${a.work.kind}`;
    return a.kind;
  });
}

describe('ConnectionCore (the TCP connection without a socket)', () => {
  it('requires hello first, in this protocol\'s version', () => {
    const core = new ConnectionCore({ maxFileBytes: 1, serverName: 's', draining: () => false });
    assert.deepEqual(summary(core.message({ type: 'list' })), ['refuse LAB_ERR_UNEXPECTED_MESSAGE', 'close']);
    assert.ok(core.closed);
    assert.deepEqual(core.message({ type: 'hello', version: 1 }), [], 'a closed connection decides nothing more');
    const other = new ConnectionCore({ maxFileBytes: 1, serverName: 's', draining: () => false });
    assert.deepEqual(summary(other.message({ type: 'hello', version: 2 })), ['refuse LAB_ERR_UNSUPPORTED_VERSION', 'close']);
    const { core: once } = greeted();
    assert.deepEqual(summary(once.message({ type: 'hello', version: 1 })), ['refuse LAB_ERR_UNEXPECTED_MESSAGE', 'close']);
  });

  it('runs an upload: begin, busy through the body, commit, reply, ready again', () => {
    const { core } = greeted();
    const put: ClientMessage = { type: 'put', name: 'f.bin', size: 10, sha256, offset: 4 };
    assert.deepEqual(core.message(put), [{ kind: 'work', work: { kind: 'begin-upload', request: { name: 'f.bin', size: 10, sha256, offset: 4 } } }]);
    assert.ok(core.busy);
    assert.deepEqual(core.done({ kind: 'begin-upload' }), []);
    assert.ok(core.busy, 'busy while the body arrives');
    assert.deepEqual(summary(core.bodyEnd()), ['work commit-upload']);
    const stored = { name: 'f.bin', size: 10, sha256 };
    assert.deepEqual(core.done({ kind: 'commit-upload', stored }), [{ kind: 'send', message: { type: 'stored', ...stored } }]);
    assert.ok(!core.busy && !core.closed);
  });

  it('refuses a put before its body (bad name, too large, begin refused) and closes: the body cannot be skipped', () => {
    assert.deepEqual(summary(greeted().core.message({ type: 'put', name: '../x', size: 1, sha256, offset: 0 })), ['refuse LAB_ERR_BAD_FILE_NAME', 'close']);
    assert.deepEqual(summary(greeted(1000).core.message({ type: 'put', name: 'x', size: 1001, sha256, offset: 0 })), ['refuse LAB_ERR_FILE_TOO_LARGE', 'close']);
    const { core } = greeted();
    core.message({ type: 'put', name: 'x', size: 1, sha256, offset: 0 });
    assert.deepEqual(summary(core.failed(new LabError('LAB_ERR_QUOTA_EXCEEDED'))), ['refuse LAB_ERR_QUOTA_EXCEEDED', 'close']);
  });

  it('keeps the connection after a refused commit (hash, space at the end): the body was read whole', () => {
    const { core } = greeted();
    core.message({ type: 'put', name: 'x', size: 1, sha256, offset: 0 });
    core.done({ kind: 'begin-upload' });
    core.bodyEnd();
    assert.deepEqual(summary(core.failed(new LabError('LAB_ERR_HASH_MISMATCH'))), ['refuse LAB_ERR_HASH_MISMATCH']);
    assert.ok(!core.closed && !core.busy);
  });

  it('answers list, stat, delete and get, and keeps the connection after a refusal of a request without a body', () => {
    const { core } = greeted();
    assert.deepEqual(summary(core.message({ type: 'list' })), ['work list']);
    assert.deepEqual(core.done({ kind: 'list', files: [] }), [{ kind: 'send', message: { type: 'listing', files: [] } }]);
    core.message({ type: 'stat', name: 'a' });
    assert.deepEqual(core.done({ kind: 'stat', result: { stored: null, partials: [] } }), [{ kind: 'send', message: { type: 'stat-result', name: 'a', stored: null, partials: [] } }]);
    core.message({ type: 'delete', name: 'a' });
    assert.deepEqual(core.done({ kind: 'delete', removed: 2 }), [{ kind: 'send', message: { type: 'deleted', name: 'a', removed: 2 } }]);
    for (const message of [{ type: 'get', name: 'nope', offset: 0 }, { type: 'stat', name: '..' }, { type: 'delete', name: 'nope' }] as ClientMessage[]) {
      core.message(message);
      const code = message.type === 'stat' ? 'LAB_ERR_BAD_FILE_NAME' : 'LAB_ERR_NOT_FOUND';
      assert.deepEqual(summary(core.failed(new LabError(code))), [`refuse ${code}`]);
    }
    core.message({ type: 'get', name: 'a', offset: 0 });
    assert.deepEqual(core.done({ kind: 'send-file' }), []);
    core.message({ type: 'get', name: 'a', offset: 0 });
    assert.deepEqual(summary(core.failed(new LabError('LAB_ERR_STORAGE'))), ['refuse LAB_ERR_STORAGE', 'close'], 'a body cut mid-way cannot be resumed in step');
  });

  it('chats in the room it joined, and refuses chat before a join without closing', () => {
    const { core } = greeted();
    assert.deepEqual(summary(core.message({ type: 'chat', text: 'hi' })), ['refuse LAB_ERR_NOT_IN_ROOM']);
    assert.deepEqual(core.message({ type: 'chat-join', room: 'lab' }), [{ kind: 'work', work: { kind: 'chat-join', room: 'lab', leaving: null } }]);
    assert.deepEqual(core.done({ kind: 'chat-join', members: 3 }), [{ kind: 'send', message: { type: 'chat-joined', room: 'lab', members: 3 } }]);
    assert.equal(core.room, 'lab');
    assert.deepEqual(core.message({ type: 'chat', text: 'hi' }), [{ kind: 'work', work: { kind: 'chat-say', room: 'lab', text: 'hi' } }]);
    assert.deepEqual(core.done({ kind: 'chat-say' }), []);
    assert.deepEqual(core.message({ type: 'chat-join', room: 'other' }), [{ kind: 'work', work: { kind: 'chat-join', room: 'other', leaving: 'lab' } }]);
  });

  it('times out a header, and a silent connection (with no error frame inside a file body going out)', () => {
    assert.deepEqual(summary(greeted().core.headerTimeout(10_000)), ['refuse LAB_ERR_HEADER_TIMEOUT', 'close']);
    assert.deepEqual(summary(greeted().core.idleTimeout(300_000, false)), ['refuse LAB_ERR_TIMEOUT', 'close']);
    const { core } = greeted();
    core.message({ type: 'get', name: 'big', offset: 0 });
    assert.deepEqual(summary(core.idleTimeout(300_000, true)), ['close']);
  });

  it('lets a request in progress finish when the server stops, then closes; refuses new ones', () => {
    const { core, stop } = greeted();
    core.message({ type: 'list' });
    stop();
    assert.deepEqual(summary(core.done({ kind: 'list', files: [] })), ['send listing', 'close']);
    const { core: next, stop: stopNext } = greeted();
    stopNext();
    assert.deepEqual(summary(next.message({ type: 'list' })), ['refuse LAB_ERR_SHUTTING_DOWN', 'close']);
  });

  it('says nothing to a peer that went away, and tells one whose frame was malformed', () => {
    assert.deepEqual(summary(greeted().core.broken(new LabError('LAB_ERR_TRUNCATED'))), ['vanished LAB_ERR_TRUNCATED', 'close']);
    assert.deepEqual(summary(greeted().core.broken(new LabError('LAB_ERR_CONNECTION'))), ['vanished LAB_ERR_CONNECTION', 'close']);
    assert.deepEqual(summary(greeted().core.broken(new LabError('LAB_ERR_HEADER_NOT_JSON'))), ['refuse LAB_ERR_HEADER_NOT_JSON', 'close']);
  });

  it('refuses to take a result for work it did not ask for (a glue bug, not a peer\'s)', () => {
    const { core } = greeted();
    core.message({ type: 'list' });
    assert.throws(() => core.done({ kind: 'chat-say' }), /chat-say is done, but list was asked for/);
  });

  it('remembers a room joined while the connection closed, so that the glue leaves it', () => {
    const { core } = greeted();
    core.message({ type: 'chat-join', room: 'lab' });
    core.headerTimeout(10);
    assert.deepEqual(core.done({ kind: 'chat-join', members: 1 }), []);
    assert.equal(core.room, 'lab');
  });
});
