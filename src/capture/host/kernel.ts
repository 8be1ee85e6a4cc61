/**
 * The kernel's own account, beside the frames: its log lines about own-address frames and bonding
 * failovers (/dev/kmsg live, or a saved dmesg/syslog), and the bridge's forwarding database
 * (/sys/class/net/<br>/brforward), so a finding can say "confirmed: the kernel has 00:16:3e:… on bond0".
 */
import { closeSync, constants as fsConstants, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseMac, readMac } from '../../model/mac.js';

export type KernelEventKind = 'own-address' | 'failover' | 'link-down' | 'link-up';

export interface KernelEvent {
  kind: KernelEventKind;
  /** Wall-clock time of the line, seconds since the epoch (with fraction), or null when the line has none we can place. */
  time: number | null;
  /** The bridge that logged an own-address warning (null in the oldest form, where the bond logs it). */
  bridge: string | null;
  /** The port the frame arrived on (the bond), or the bond of a failover. */
  port: string | null;
  /** The own MAC named (newest form only), -1 otherwise. */
  mac: number;
  vlan: number;
  /** For a failover: the slave that became active; for link events: the slave. */
  slave: string | null;
  /** The log line as written (without syslog prefix). */
  text: string;
}

// The three historical forms of the own-address warning:
//   2.6 bonding:   "bond0: received packet with  own address as source address"
//   2.6/3.x bridge:"xenbr0: received packet on bond0 with own address as source address"
//   4.x+ bridge:   "xenbr0: received packet on bond0 with own address as source address (addr:00:25:90:00:00:01, vlan:0)"
const OWN_BRIDGE = /(\S+): received packet on (\S+) with\s+own address as source address(?: \(addr:([0-9a-fA-F:]{17}), vlan:(\d+)\))?/;
const OWN_BOND = /(\S+): received packet with\s+own address as source address/;
// Failovers: "bond0: making interface eth1 the new active one" (old), "bond0: (slave eth1): making interface the new active one" (new).
const FAILOVER_OLD = /(\S+): making interface (\S+) the new active one/;
const FAILOVER_NEW = /(\S+): \(slave (\S+)\): making interface the new active one/;
const LINK_DOWN = /(\S+): (?:\(slave (\S+)\): )?link status definitely down(?: for interface (\S+?))?[,\s]/;
const LINK_UP = /(\S+): (?:\(slave (\S+)\): )?link status definitely up(?: for interface (\S+?))?[,\s]/;

/** One kernel message (no prefix) → an event, or null when it is not one bondscope cares about. */
export function parseKernelMessage(msg: string, time: number | null): KernelEvent | null {
  let m = OWN_BRIDGE.exec(msg);
  if (m) return { kind: 'own-address', time, bridge: m[1]!, port: m[2]!, mac: m[3] ? parseMac(m[3]) : -1, vlan: m[4] ? Number(m[4]) : 0, slave: null, text: msg.trim() };
  m = OWN_BOND.exec(msg);
  if (m) return { kind: 'own-address', time, bridge: null, port: m[1]!, mac: -1, vlan: 0, slave: null, text: msg.trim() };
  m = FAILOVER_NEW.exec(msg) ?? FAILOVER_OLD.exec(msg);
  if (m) return { kind: 'failover', time, bridge: null, port: m[1]!, mac: -1, vlan: 0, slave: m[2]!, text: msg.trim() };
  m = LINK_DOWN.exec(msg + ' ');
  if (m) return { kind: 'link-down', time, bridge: null, port: m[1]!, mac: -1, vlan: 0, slave: m[2] ?? m[3] ?? null, text: msg.trim() };
  m = LINK_UP.exec(msg + ' ');
  if (m) return { kind: 'link-up', time, bridge: null, port: m[1]!, mac: -1, vlan: 0, slave: m[2] ?? m[3] ?? null, text: msg.trim() };
  return null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A saved log line → its time and the kernel message. Understands `dmesg` ("[ 5238.953660] msg",
 * monotonic: time null unless `bootTime` is given), `dmesg -T` ("[Wed Nov 25 12:00:00 2026] msg"),
 * syslog ("Nov 25 12:00:00 host kernel: [ 5238.95] msg"; the year from `year`), RFC 3339 syslog and
 * `journalctl -k -o short-iso` ("2026-11-25T12:00:00+0000 host kernel: msg").
 */
export function splitLogLine(line: string, year: number, bootTime: number | null): { time: number | null; msg: string } {
  let rest = line;
  let time: number | null = null;
  let m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+\S+\s+kernel:\s?(.*)$/.exec(rest);
  if (m) {
    // An impossible date (month 13) parses to NaN: no time rather than a time no one can print.
    const t = Date.parse(m[1]!.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    if (!Number.isNaN(t)) time = t / 1000;
    rest = m[2]!;
  } else if ((m = /^([A-Z][a-z]{2})\s+(\d{1,2}) (\d\d):(\d\d):(\d\d)\s+\S+\s+kernel:\s?(.*)$/.exec(rest))) {
    const mon = MONTHS.indexOf(m[1]!);
    if (mon >= 0) time = new Date(year, mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime() / 1000;
    rest = m[6]!;
  }
  m = /^\[\s*(\d+\.\d+)\]\s?(.*)$/.exec(rest);
  if (m) {
    if (time === null && bootTime !== null) time = bootTime + Number(m[1]);
    rest = m[2]!;
  } else if ((m = /^\[([A-Z][a-z]{2} [A-Z][a-z]{2}\s+\d{1,2} \d\d:\d\d:\d\d \d{4})\]\s?(.*)$/.exec(rest))) {
    const t = Date.parse(m[1]!);
    if (!Number.isNaN(t)) time = t / 1000;
    rest = m[2]!;
  }
  return { time, msg: rest };
}

/** Every event in a saved kernel log (dmesg, syslog, journalctl -k). */
export function parseKernelLog(text: string, year = new Date().getFullYear(), bootTime: number | null = null): KernelEvent[] {
  const out: KernelEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('received packet') && !line.includes('active one') && !line.includes('link status')) continue;
    const { time, msg } = splitLogLine(line, year, bootTime);
    const e = parseKernelMessage(msg, time);
    if (e) out.push(e);
  }
  return out;
}

/** Wall-clock time of boot, from /proc/uptime, to place /dev/kmsg's monotonic timestamps. */
export function bootTime(): number {
  try {
    return Date.now() / 1000 - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    return Date.now() / 1000;
  }
}

/**
 * One /dev/kmsg record ("pri,seq,usec,flags;message", continuation lines after it) → an event,
 * placed in wall time from `boot` (the wall time the host booted, on the host's clock); null when
 * it is not one bondscope cares about or was logged before `since`.
 */
export function parseKmsgRecord(rec: string, boot: number, since: number): KernelEvent | null {
  const semi = rec.indexOf(';');
  if (semi < 0) return null;
  const usec = Number(rec.slice(0, semi).split(',')[2]);
  const time = boot + usec / 1e6;
  if (!(time >= since)) return null;
  return parseKernelMessage(rec.slice(semi + 1).split('\n')[0]!, time);
}

/**
 * /dev/kmsg, non-blocking: each read returns one record "pri,seq,usec,flags;message". Opened
 * before privileges are dropped; records logged before `since` (wall seconds) are skipped, so only
 * this run's lines count.
 */
export class KmsgReader {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(8192);
  private readonly boot = bootTime();

  constructor(
    private readonly since: number,
    path = '/dev/kmsg',
  ) {
    // Non-blocking: a read with nothing new returns EAGAIN instead of waiting for the next message.
    this.fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  }

  /** Reads every record available now; returns the events among them. */
  poll(): KernelEvent[] {
    const out: KernelEvent[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // EAGAIN: nothing more now. EPIPE: records were overwritten before we read them; go on.
        if (code === 'EPIPE') continue;
        break;
      }
      if (n <= 0) break;
      const e = parseKmsgRecord(this.buf.toString('utf8', 0, n), this.boot, this.since);
      if (e) out.push(e);
    }
    return out;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

export interface FdbEntry {
  mac: number;
  /** The bridge port name the kernel has this MAC on. */
  port: string;
  isLocal: boolean;
  /** Seconds since the entry was last refreshed. */
  ageSec: number;
}

/**
 * How much of the time the bridge's forwarding database may be read, at most: a reading is reused
 * until it is this many times its own cost old. brforward is a sysfs binary file the kernel fills
 * a page per read() (br_fdb_fillbuf), walking the table from its start to the offset each time:
 * a table of tens of thousands of MACs costs seconds a reading, on the thread that reads it. The
 * monitor's accelerated soak (40 000 new MACs a minute) spent 64% of its main thread there — the
 * session's kernel account, the guests' ports followed and the slow poll each reading it — while
 * the capture ring went unread and the kernel dropped 1.3 M frames in 200 s. A table of the lab's
 * size costs well under a millisecond: read afresh almost every time.
 */
const FDB_READ_DUTY = 20;
const fdbReadings = new Map<string, { at: number; costMs: number; entries: FdbEntry[] }>();

/**
 * The bridge's forwarding database as the kernel exports it in /sys/class/net/<br>/brforward:
 * an array of struct __fdb_entry (16 bytes: mac[6], port_no u8, is_local u8, ageing_timer_value
 * u32 in 1/100 s, port_hi u8, pad u8, unused u16), port numbers mapped to names through
 * brif/<port>/port_no. Readable without privileges. Every caller shares one reading while it is
 * fresh (FDB_READ_DUTY); `ageSec` is as of that reading.
 */
export function readBridgeFdb(bridge: string, root = '/'): FdbEntry[] {
  const key = `${root}\0${bridge}`;
  const now = performance.now();
  const last = fdbReadings.get(key);
  if (last && now - last.at < last.costMs * FDB_READ_DUTY) return last.entries;
  const entries = readBridgeFdbNow(bridge, root);
  const at = performance.now();
  fdbReadings.set(key, { at, costMs: at - now, entries });
  return entries;
}

function readBridgeFdbNow(bridge: string, root: string): FdbEntry[] {
  const dir = join(root, 'sys/class/net', bridge);
  const portNames = new Map<number, string>();
  for (const p of readdirSync(join(dir, 'brif'))) {
    try {
      portNames.set(Number(readFileSync(join(dir, 'brif', p, 'port_no'), 'utf8').trim()), p);
    } catch {
      /* port went away */
    }
  }
  const raw = readFileSync(join(dir, 'brforward'));
  return parseBrforward(raw, portNames);
}

export function parseBrforward(raw: Uint8Array, portNames: Map<number, string>): FdbEntry[] {
  const out: FdbEntry[] = [];
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let o = 0; o + 16 <= raw.length; o += 16) {
    const mac = readMac(raw, o);
    const portNo = raw[o + 6]! | (raw[o + 12]! << 8);
    out.push({ mac, port: portNames.get(portNo) ?? `port ${portNo}`, isLocal: raw[o + 7] !== 0, ageSec: v.getUint32(o + 8, true) / 100 });
  }
  return out;
}
