import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerMessage } from '@lab/protocol';
import { ChatRooms, type ChatMember } from './chat-rooms.ts';

const member = (id: string) => {
  const inbox: ServerMessage[] = [];
  return { id, send: (m: ServerMessage) => inbox.push(m), inbox } satisfies ChatMember & { inbox: ServerMessage[] };
};

describe('ChatRooms', () => {
  it('relays to every other member of the room only, numbering messages per room', () => {
    const rooms = new ChatRooms();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(member) as [ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>];
    assert.equal(rooms.join(a, 'r1'), 1);
    rooms.join(b, 'r1');
    rooms.join(c, 'r1');
    rooms.join(d, 'r2');
    assert.equal(rooms.say(a, 'r1', 'hello'), 0);
    assert.equal(rooms.say(b, 'r1', 'hi'), 1);
    assert.deepEqual(a.inbox, [{ type: 'chat', room: 'r1', from: 'b', seq: 1, text: 'hi' }]);
    assert.deepEqual(c.inbox.map((m) => (m.type === 'chat' ? m.seq : -1)), [0, 1]);
    assert.deepEqual(d.inbox, []);
  });

  it('forgets members that left and rooms that emptied', () => {
    const rooms = new ChatRooms();
    const a = member('a');
    const b = member('b');
    rooms.join(a, 'r');
    rooms.join(b, 'r');
    rooms.leave(b, 'r');
    rooms.say(a, 'r', 'alone');
    assert.deepEqual(b.inbox, []);
    rooms.leave(a, 'r');
    assert.equal(rooms.members('r'), 0);
    assert.throws(() => rooms.say(a, 'r', 'gone'));
  });
});
