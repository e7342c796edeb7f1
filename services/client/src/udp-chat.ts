import { chatPayloadSchema, decodeControl, encodeControl, type Datagram } from '@lab/protocol';
import { ChatSequencer } from './chat-sequencer.ts';

/** The one thing the chat needs from a room member: sending a chat datagram. */
export interface ChatSender {
  readonly sender: number;
  send(type: 'chat', seq: bigint, payload: Buffer): void;
}

/**
 * UDP chat in a room: each line is one datagram, numbered per sender. Receiving, it prints the lines
 * and, between them, what UDP did to the conversation: lost messages, duplicates, late arrivals (the
 * TCP chat never has any of these).
 */
export class UdpChat {
  readonly #member: ChatSender;
  readonly #name: string;
  readonly #print: (line: string) => void;
  readonly #sequencer = new ChatSequencer();
  #seq = 0n;
  /** Counts of what was seen, for the summary when leaving. */
  readonly seen = { messages: 0, lost: 0, duplicates: 0, late: 0 };

  constructor(member: ChatSender, name: string, print: (line: string) => void) {
    this.#member = member;
    this.#name = name;
    this.#print = print;
  }

  say(text: string): void {
    this.#member.send('chat', this.#seq++, encodeControl({ name: this.#name, text: text.slice(0, 1000) }));
  }

  onDatagram = (datagram: Datagram): void => {
    if (datagram.type !== 'chat' || datagram.sender === this.#member.sender) return;
    const chat = decodeControl(chatPayloadSchema, datagram.payload);
    if (!chat) return;
    const who = `${chat.name}#${datagram.sender.toString(16).padStart(8, '0').slice(0, 4)}`;
    const verdict = this.#sequencer.accept(datagram.sender, datagram.seq);
    if (verdict.kind === 'duplicate') {
      this.seen.duplicates++;
      this.#print(`  ! duplicate of message ${datagram.seq} from ${who} (not shown again)`);
      return;
    }
    if (verdict.kind === 'gap') {
      this.seen.lost += verdict.missing;
      const which = verdict.missing === 1 ? `${verdict.from}` : `${verdict.from}-${verdict.to}`;
      this.#print(`  ! ${verdict.missing} message${verdict.missing === 1 ? '' : 's'} from ${who} lost (${which})`);
    }
    if (verdict.kind === 'late') {
      this.seen.late++;
      this.#print(`  ! late: message ${datagram.seq} from ${who} arrived after ${verdict.highest}`);
      if (this.seen.lost > 0) this.seen.lost--; // counted as lost when the gap showed; it came after all
    }
    this.seen.messages++;
    this.#print(`[${datagram.seq}] ${who}: ${chat.text}`);
  };
}
