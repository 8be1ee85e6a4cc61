/**
 * Every string that comes from input (interface names, comments, file names, ARP/DHCP fields)
 * passes through here before it reaches a terminal: control characters (C0, DEL, C1, which
 * include ESC and CSI), and bidi/invisible format characters are shown as \xNN / \u{…} escapes,
 * so packet contents can never drive the user's terminal.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\\]/g;

function escapeChar(c: string): string {
  if (c === '\\') return '\\\\';
  const code = c.charCodeAt(0);
  if (code === 0x0a) return '\\n';
  if (code === 0x09) return '\\t';
  if (code === 0x0d) return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * Characters JSON.stringify leaves raw that a terminal acts on or that reorder what it shows (DEL,
 * C1 controls, bidi and zero-width format characters), and the line separators some JSON readers
 * choke on. JSON.stringify already escapes C0.
 */
// eslint-disable-next-line no-control-regex
const JSON_UNSAFE = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * JSON.stringify for output that may reach a terminal: the same JSON value (every string parses
 * back to exactly what it was), with the characters above written as \uXXXX escapes. They can only
 * occur inside strings, where such an escape means the same character.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
