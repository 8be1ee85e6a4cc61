/**
 * Vendor names of MACs from the IEEE registry, as the npm package oui-data ships it (index.json:
 * the MA-L, MA-M and MA-S assignments, "HEXPREFIX": "Organisation\naddress…", refreshed from the
 * IEEE's public listing by its maintainer; BSD-2-Clause). Nothing is fetched at run time.
 *
 * Loaded lazily, the first time a report asks, and never by the engine: the 5.6 MB file is read
 * as bytes and searched in place (see load()); parsing the whole JSON would take ~70 ms and ~20 MB.
 *
 * Locally administered MACs (second bit of the first octet) are not in the registry by
 * definition: the IEEE assigns only universally administered ones. Some conventions are worth
 * naming anyway, each said as a convention, not a registration: QEMU/KVM and libvirt give guests
 * 52:54:00:xx:xx:xx; Xen gives every vif fe:ff:ff:ff:ff:ff. Other locally administered MACs show
 * as "locally administered".
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { executableAsset } from '../model/package.js';

/** Conventions for locally administered MACs (not IEEE registrations), by 24-bit prefix. */
const LOCAL_CONVENTIONS: Record<number, string> = {
  0x525400: 'QEMU/KVM (locally administered)',
};
const XEN_VIF_MAC = 0xfeffffffffff;

export const LOCALLY_ADMINISTERED = 'locally administered';

interface Registry {
  /** The organisation text of a prefix of `digits` hex digits (6 MA-L, 7 MA-M, 9 MA-S), null when none. */
  lookup(digits: number, prefix: number): string | null;
}

let registry: Registry | null | undefined;
/** Results by 36-bit prefix (an MA-S block is the finest assignment). */
const cache = new Map<number, string | null>();
const CACHE_LIMIT = 65536;

/**
 * oui-data's index.json has one entry per line, ` "00163E": "Xensource, Inc.\n…",`, the MA-L
 * entries first, then MA-M, then MA-S, each run in order: a lookup is a binary search over the
 * file's bytes (no parse, no index). That layout is checked on a sample when loading; another
 * layout is parsed whole instead (~70 ms, once).
 */
function load(): Registry | null {
  let buf: Buffer;
  try {
    const carried = executableAsset('oui-data.json');
    buf = carried ? Buffer.from(carried.buffer, carried.byteOffset, carried.byteLength) : readFileSync(createRequire(import.meta.url).resolve('oui-data'));
  } catch {
    return null;
  }
  const first = buf.indexOf(10) + 1;
  const last = buf.lastIndexOf(10, buf.length - 2) + 1; // the closing brace's line
  /** Start of the line holding byte `i`. */
  const lineAt = (i: number): number => {
    let j = i;
    while (j > first && buf[j - 1] !== 10) j--;
    return j;
  };
  /** The key of the line starting at `ls`: digits and value, or null when the line is not an entry. */
  const keyAt = (ls: number): { digits: number; value: number; close: number } | null => {
    if (buf[ls] !== 32 || buf[ls + 1] !== 34) return null;
    let value = 0;
    let close = ls + 2;
    for (; close < buf.length && buf[close] !== 34; close++) {
      const c = buf[close]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (d < 0 || close - ls > 11) return null;
      value = value * 16 + d;
    }
    const digits = close - ls - 2;
    if ((digits !== 6 && digits !== 7 && digits !== 9) || buf[close + 1] !== 58) return null;
    return { digits, value, close };
  };
  // Entries are ordered by (digits, value): check it on lines spread over the file.
  let ordered = last > first;
  let prev = -1;
  for (let k = 0; k <= 256 && ordered; k++) {
    const key = keyAt(lineAt(first + Math.floor(((last - 1 - first) * k) / 256)));
    const rank = key ? key.digits * 2 ** 40 + key.value : -1;
    if (rank < prev) ordered = false;
    prev = rank;
  }
  if (ordered) {
    return {
      lookup(digits, prefix) {
        const want = digits * 2 ** 40 + prefix;
        let lo = first;
        let hi = last;
        while (lo < hi) {
          const ls = lineAt(lo + Math.floor((hi - lo) / 2));
          const key = keyAt(ls);
          if (!key) return null;
          const rank = key.digits * 2 ** 40 + key.value;
          if (rank === want) return stringAt(buf, key.close + 3);
          if (rank < want) lo = buf.indexOf(10, ls) + 1;
          else hi = ls;
        }
        return null;
      },
    };
  }
  try {
    const byKey = new Map(Object.entries(JSON.parse(buf.toString('utf8')) as Record<string, string>));
    return { lookup: (d, p) => byKey.get(p.toString(16).toUpperCase().padStart(d, '0')) ?? null };
  } catch {
    return null;
  }
}

/** The JSON string starting at byte `at` (its opening quote), decoded. */
function stringAt(buf: Buffer, at: number): string {
  let i = at + 1;
  while (i < buf.length) {
    const c = buf[i]!;
    if (c === 92) i += 2;
    else if (c === 34) break;
    else i++;
  }
  return JSON.parse(buf.toString('utf8', at, i + 1)) as string;
}

/** "Super Micro Computer, Inc." → "Super Micro Computer": the legal form says nothing on a network. */
export function shortOrganisation(name: string): string {
  let s = name.trim();
  for (let i = 0; i < 3; i++) {
    const t = s.replace(/[,.]?\s+(inc|incorporated|corporation|corp|co|company|ltd|limited|llc|l\.l\.c|gmbh|ag|s\.?a|b\.?v|pty|oy|ab|se|s\.?p\.?a|k\.?k|co\.,?\s*ltd)\.?$/i, '').trim();
    if (t === s || t === '') break;
    s = t;
  }
  return s;
}

/** The IEEE registration of a MAC's prefix (longest first: MA-S, MA-M, MA-L), its organisation line; null when none. */
export function registeredOrganisation(mac: number): string | null {
  if (registry === undefined) registry = load();
  if (!registry) return null;
  for (const [digits, shift] of [
    [9, 0x1000],
    [7, 0x100000],
    [6, 0x1000000],
  ] as const) {
    const text = registry.lookup(digits, Math.floor(mac / shift));
    if (text !== null) return text.split('\n', 1)[0]!.trim();
  }
  return null;
}

/**
 * Vendor of a MAC in words for reports, the UI and evidence: the IEEE-registered organisation
 * (short form), a named convention for a locally administered one, "locally administered", or
 * null (group addresses, unregistered prefixes).
 */
export function vendorOf(mac: number): string | null {
  if (mac < 0) return null;
  if (mac === XEN_VIF_MAC) return 'Xen vif (locally administered)';
  const oui = Math.floor(mac / 0x1000000);
  if (oui & 0x010000) return null;
  const key = Math.floor(mac / 0x1000);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let v: string | null;
  if (oui & 0x020000) v = LOCAL_CONVENTIONS[oui] ?? LOCALLY_ADMINISTERED;
  else {
    const org = registeredOrganisation(mac);
    v = org === null ? null : shortOrganisation(org);
  }
  if (cache.size < CACHE_LIMIT) cache.set(key, v);
  return v;
}
