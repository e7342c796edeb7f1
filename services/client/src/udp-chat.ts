import { chatPayloadSchema, decodeControl, encodeControl, type Datagram } from '@lab/protocol';
import { ChatSequencer } from './chat-sequencer.ts';
import { terminalText } from './terminal-text.ts';

/** Chat payload bytes that fit one datagram within the relay's default 1472-byte limit, with room to spare. */
const MAX_CHAT_PAYLOAD_BYTES = 1400;

/** The one thing the chat needs from a room member: sending a chat datagram. */
export interface ChatSender {
  readonly sender: number;
  send(type: 'chat', seq: bigint, payload: Buffer): void;
}

/**
 * UDP chat in a room: each line is one datagram, numbered per sender. Receiving, it prints the lines
 * and, between them, what UDP did to the conversation: lost messages, duplicates, messages out of
 * order (the TCP chat never has any of these).
 */
export class UdpChat {
  readonly #member: ChatSender;
  readonly #name: string;
  readonly #print: (line: string) => void;
  readonly #sequencer = new ChatSequencer();
  #seq = 0n;
  /** Counts of what was seen, for the summary when leaving. */
  readonly seen = { messages: 0, lost: 0, duplicates: 0, reordered: 0 };

  constructor(member: ChatSender, name: string, print: (line: string) => void) {
    this.#member = member;
    this.#name = name;
    this.#print = print;
  }

  /**
   * Sends one line as one datagram. A line longer than one datagram can carry (the relay drops what is
   * above its limit, and UDP would not say so) is cut, and the cut is returned.
   */
  say(text: string): string {
    let line = text.slice(0, 1000);
    let payload = encodeControl({ name: this.#name, text: line });
    while (payload.length > MAX_CHAT_PAYLOAD_BYTES) {
      line = line.slice(0, Math.floor(line.length * 0.9));
      payload = encodeControl({ name: this.#name, text: line });
    }
    this.#member.send('chat', this.#seq++, payload);
    return line;
  }

  onDatagram = (datagram: Datagram): void => {
    if (datagram.type !== 'chat' || datagram.sender === this.#member.sender) return;
    const chat = decodeControl(chatPayloadSchema, datagram.payload);
    if (!chat) return;
    // The name and text are the sender's own words: shown on one line, never obeyed by the terminal.
    const who = `${terminalText(chat.name)}#${datagram.sender.toString(16).padStart(8, '0').slice(0, 4)}`;
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
    if (verdict.kind === 'reordered') {
      this.seen.reordered++;
      this.#print(`  ! out of order: message ${datagram.seq} from ${who} arrived after ${verdict.highest}`);
      if (verdict.wasCountedLost) this.seen.lost--; // reported lost when the gap showed; it came after all
    }
    this.seen.messages++;
    this.#print(`[${datagram.seq}] ${who}: ${terminalText(chat.text)}`);
  };
}
