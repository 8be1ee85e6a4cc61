/** The one formatter of IPv4 and IPv6 addresses (RFC 5952 for IPv6), reading from the frame's bytes. */

export function formatIpv4(b: Uint8Array, p: number): string {
  return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
}

export function formatIpv6(b: Uint8Array, p: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[p + 2 * i]! << 8) | b[p + 2 * i + 1]!);
  // IPv4-mapped ::ffff:a.b.c.d
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${formatIpv4(b, p + 12)}`;
  // Longest run of two or more zero words becomes "::" (the first one on a tie).
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}
