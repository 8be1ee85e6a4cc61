/** `ip -j link` output: interface index → name (for SLL2 `-i any` captures) and the MACs. */

export interface LinkInfo {
  ifindex: number;
  ifname: string;
  address: string | null;
  master: string | null;
}

export function parseLinksJson(text: string, source: string): LinkInfo[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${(err as Error).message}); expected the output of \`ip -j link\``);
  }
  if (!Array.isArray(data)) throw new Error(`${source}: expected a JSON array, the output of \`ip -j link\``);
  const out: LinkInfo[] = [];
  for (const l of data as Record<string, unknown>[]) {
    if (typeof l?.ifindex !== 'number' || typeof l?.ifname !== 'string') continue;
    out.push({
      ifindex: l.ifindex,
      ifname: l.ifname,
      address: typeof l.address === 'string' ? l.address : null,
      master: typeof l.master === 'string' ? l.master : null,
    });
  }
  return out;
}
