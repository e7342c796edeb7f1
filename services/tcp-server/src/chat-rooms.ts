import type { ServerMessage } from '@lab/protocol';

export interface ChatMember {
  /** How others see this member: the peer's address and port. */
  readonly id: string;
  send(message: ServerMessage): void;
}

interface Room {
  seq: number;
  members: Set<ChatMember>;
}

/**
 * TCP chat rooms: the reliable, ordered twin of the UDP relay's rooms. Each message gets the room's next
 * sequence number and is written to every other member's socket in that order; TCP then delivers it
 * to each of them completely and in order (or the connection fails), so no receiver ever sees a gap.
 */
export class ChatRooms {
  readonly #rooms = new Map<string, Room>();

  /** Adds `member` to `room` and returns how many members it has now. */
  join(member: ChatMember, room: string): number {
    let entry = this.#rooms.get(room);
    if (!entry) {
      entry = { seq: 0, members: new Set() };
      this.#rooms.set(room, entry);
    }
    entry.members.add(member);
    return entry.members.size;
  }

  leave(member: ChatMember, room: string): void {
    const entry = this.#rooms.get(room);
    if (!entry) return;
    entry.members.delete(member);
    if (entry.members.size === 0) this.#rooms.delete(room);
  }

  /** Relays `text` to the room's other members; returns the message's sequence number. */
  say(member: ChatMember, room: string, text: string): number {
    const entry = this.#rooms.get(room);
    if (!entry?.members.has(member)) throw new Error(`not a member of ${room}`);
    const seq = entry.seq++;
    const message: ServerMessage = { type: 'chat', room, from: member.id, seq, text };
    for (const other of entry.members) if (other !== member) other.send(message);
    return seq;
  }

  members(room: string): number {
    return this.#rooms.get(room)?.members.size ?? 0;
  }
}
