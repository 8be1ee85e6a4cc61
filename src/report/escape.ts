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
