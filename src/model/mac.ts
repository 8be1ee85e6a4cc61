/** The one MAC formatter and parser of the project. MACs are 48-bit integers held in a double. */

const HEX = '0123456789abcdef';

/** Reads the 6 bytes at `off` as a 48-bit integer. */
export function readMac(buf: Uint8Array, off: number): number {
  return (
    ((buf[off]! << 8) | buf[off + 1]!) * 4294967296 +
    (((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0)
  );
}

export function formatMac(mac: number): string {
  let s = '';
  for (let shift = 40; shift >= 0; shift -= 8) {
    const b = Math.floor(mac / 2 ** shift) & 0xff;
    if (shift !== 40) s += ':';
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** Parses `00:16:3e:aa:bb:cc`, `00-16-3e-aa-bb-cc` or `0016.3eaa.bbcc`; returns -1 when it is not a MAC. */
export function parseMac(text: string): number {
  const hex = text.trim().toLowerCase().replace(/[:.-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

/** The group bit (I/G) of the first octet: broadcast and multicast destinations. */
export function isGroupMac(mac: number): boolean {
  return (Math.floor(mac / 1099511627776) & 1) === 1;
}

export const BROADCAST_MAC = 0xffffffffffff;
