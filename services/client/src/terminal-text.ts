/**
 * Characters a terminal acts on instead of printing: the C0 controls (ESC starts the escape sequences
 * that clear the screen or set the window title, CR returns to the start of the line so that the rest
 * overwrites what was printed, BEL rings, NUL and BS hide), DEL, the C1 controls (U+0080-U+009F, CSI
 * among them, ECMA-48 §5.3), the line and paragraph separators, and the Unicode bidirectional overrides
 * and isolates that reorder what is shown (CVE-2021-42574, "Trojan Source").
 */
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text from the network made safe to print on a terminal as part of one line: every character in
 * ACTIVE becomes visible as an escape ("\x1b", "\u202e"), so a peer can neither drive the reader's
 * terminal nor start a line of its own (one that would look like another member's message). Printable
 * text, other scripts and emoji pass unchanged.
 */
export function terminalText(text: string): string {
  return text.replace(ACTIVE, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
