/**
 * Open vSwitch as its own tools report it: the database (`ovs-vsctl --format=json list
 * Bridge|Port|Interface`) and vswitchd's state (`ovs-appctl bond/show`, `lacp/show`,
 * `fdb/show BRIDGE`). XCP-ng and XenServer run OVS by default: their bonds are OVS bonds (a Port
 * with several Interfaces, no kernel bond device), invisible to /proc/net/bonding.
 *
 * Formats, from Open vSwitch's source (commit d6a632a9b16e, see test/fixtures/host/README.md):
 *  - `--format=json` tables (lib/table.c table_print_json__): {"headings":[…],"data":[[…],…]}, each
 *    cell in the OVSDB JSON notation of RFC 7047 §5.1 (lib/table.man: JSON cells whatever --data
 *    says): an atom, ["uuid","…"], ["set",[…]] (a set of one may be the bare atom), ["map",[[k,v],…]].
 *  - bond/show (ofproto/bond.c bond_print_details): "---- NAME ----", "key: value" lines, then
 *    per member "member NAME: enabled|disabled" and indented lines ("active member", "may_enable:
 *    true"). OVS before 2.14 (XCP-ng 8.x ships 2.5) wrote "slave" for "member", tab-indented.
 *  - lacp/show (lib/lacp.c lacp_print_details): "---- NAME ----", "status: active negotiated",
 *    "member: NAME: current attached" (earlier "slave: …") with actor/partner lines.
 *  - fdb/show (ofproto/ofproto-dpif.c ofproto_unixctl_fdb_show_text): a header " Port  VLAN  MAC
 *    Age" then one row per entry; Port is the OpenFlow port number of one interface of the bundle
 *    ("LOCAL" for the bridge's internal port), not a name: Interface.ofport maps it back.
 *
 * Nothing here throws on odd input: what could not be read is left out and said in `warnings`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseMac } from '../../model/mac.js';

/** One row of an ovs-vsctl table, cells decoded from the OVSDB notation. */
export type OvsRow = Record<string, OvsValue>;
export type OvsValue = string | number | boolean | null | OvsValue[] | { [k: string]: OvsValue };

/** An OVSDB JSON cell as a plain value: uuid → its string, set → array, map → object. */
export function ovsdbValue(cell: unknown): OvsValue {
  if (Array.isArray(cell) && cell.length === 2 && typeof cell[0] === 'string') {
    const [tag, v] = cell as [string, unknown];
    if (tag === 'uuid' || tag === 'named-uuid') return typeof v === 'string' ? v : null;
    if (tag === 'set') return Array.isArray(v) ? v.map(ovsdbValue) : [];
    if (tag === 'map') {
      const o: { [k: string]: OvsValue } = {};
      if (Array.isArray(v)) for (const kv of v) if (Array.isArray(kv) && kv.length === 2) o[String(ovsdbValue(kv[0]))] = ovsdbValue(kv[1]);
      return o;
    }
  }
  if (typeof cell === 'string' || typeof cell === 'number' || typeof cell === 'boolean') return cell;
  return null;
}

/** Rows of `ovs-vsctl --format=json list TABLE`; throws with what was wrong when it is not that. */
export function parseOvsTable(text: string, source: string): OvsRow[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${(err as Error).message}); expected \`ovs-vsctl --format=json list TABLE\``);
  }
  const b = body as { headings?: unknown; data?: unknown };
  if (!b || !Array.isArray(b.headings) || !Array.isArray(b.data)) throw new Error(`${source}: no "headings" and "data": expected \`ovs-vsctl --format=json list TABLE\``);
  const headings = b.headings.map(String);
  return (b.data as unknown[]).filter(Array.isArray).map((row) => Object.fromEntries(headings.map((h, i) => [h, ovsdbValue((row as unknown[])[i])])));
}

/** A set-valued cell as an array (OVSDB writes a set of one as the bare value). */
function asList(v: OvsValue | undefined): OvsValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function asMap(v: OvsValue | undefined): { [k: string]: OvsValue } {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

export interface OvsMember {
  name: string;
  enabled: boolean | null;
  active: boolean;
  mayEnable: boolean | null;
}

export interface OvsBondState {
  name: string;
  mode: string | null;
  lacpStatus: string | null;
  /** "all members active" (printed for balance-slb since OVS 3.0). */
  allMembersActive: boolean | null;
  lacpFallbackAb: boolean | null;
  /** From "active member mac: …(NAME)" or the member marked active. */
  activeMember: string | null;
  members: OvsMember[];
}

/** Parses `ovs-appctl bond/show` (every bond, or one), in the "member" wording and the older "slave" one. */
export function parseBondShow(text: string): OvsBondState[] {
  const out: OvsBondState[] = [];
  let bond: OvsBondState | null = null;
  let member: OvsMember | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const head = /^---- (.+) ----$/.exec(line);
    if (head) {
      bond = { name: head[1]!, mode: null, lacpStatus: null, allMembersActive: null, lacpFallbackAb: null, activeMember: null, members: [] };
      out.push(bond);
      member = null;
      continue;
    }
    if (!bond || line === '') continue;
    const m = /^(?:member|slave) (\S+): (enabled|disabled)$/.exec(line);
    if (m) {
      member = { name: m[1]!, enabled: m[2] === 'enabled', active: false, mayEnable: null };
      bond.members.push(member);
      continue;
    }
    if (member) {
      if (line === 'active member' || line === 'active slave') {
        member.active = true;
        bond.activeMember = member.name;
      } else if (line.startsWith('may_enable:')) member.mayEnable = line.endsWith('true');
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'bond_mode') bond.mode = value;
    else if (key === 'lacp_status') bond.lacpStatus = value;
    else if (key === 'all members active') bond.allMembersActive = value === 'true';
    else if (key === 'lacp_fallback_ab') bond.lacpFallbackAb = value === 'true';
    else if (key === 'active member mac' || key === 'active slave mac') {
      const name = /\(([^)]+)\)$/.exec(value)?.[1];
      if (name && name !== 'none') bond.activeMember = name;
    }
  }
  return out;
}

export interface OvsLacpMember {
  name: string;
  /** "current attached", "expired attached", "defaulted detached". */
  status: string;
  actorState: string;
  partnerSysId: number;
  partnerKey: number;
  partnerState: string;
}

export interface OvsLacp {
  name: string;
  /** "active negotiated", "passive configured", … */
  status: string;
  sysId: number;
  lacpTime: string | null;
  members: OvsLacpMember[];
}

/** Parses `ovs-appctl lacp/show`. */
export function parseLacpShow(text: string): OvsLacp[] {
  const out: OvsLacp[] = [];
  let cur: OvsLacp | null = null;
  let member: OvsLacpMember | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const head = /^---- (.+) ----$/.exec(line);
    if (head) {
      cur = { name: head[1]!, status: '', sysId: -1, lacpTime: null, members: [] };
      out.push(cur);
      member = null;
      continue;
    }
    if (!cur || line === '') continue;
    const m = /^(?:member|slave): (\S+): (.*)$/.exec(line);
    if (m) {
      member = { name: m[1]!, status: m[2]!, actorState: '', partnerSysId: -1, partnerKey: -1, partnerState: '' };
      cur.members.push(member);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!member) {
      if (key === 'status') cur.status = value;
      else if (key === 'sys_id') cur.sysId = parseMac(value);
      else if (key === 'lacp_time') cur.lacpTime = value;
      continue;
    }
    if (key === 'actor state') member.actorState = value;
    else if (key === 'partner sys_id') member.partnerSysId = parseMac(value);
    else if (key === 'partner key') member.partnerKey = Number(value);
    else if (key === 'partner state') member.partnerState = value;
  }
  return out;
}

export interface OvsFdbRow {
  /** OpenFlow port number as printed, or "LOCAL". */
  port: string;
  vlan: number;
  mac: number;
  /** Seconds, -1 for "static" (or an age that is not a number: OVS's tests print "?"). */
  age: number;
}

/** Parses `ovs-appctl fdb/show BRIDGE` (one bridge; the multi-bridge form's Bridge column is skipped). */
export function parseFdbShow(text: string): OvsFdbRow[] {
  const out: OvsFdbRow[] = [];
  for (const raw of text.split('\n')) {
    const m = /(\S+)\s+(\d+)\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\s+(\S+)\s*$/.exec(raw);
    if (!m) continue;
    const mac = parseMac(m[3]!);
    if (mac < 0) continue;
    out.push({ port: m[1]!, vlan: Number(m[2]), mac, age: /^\d+$/.test(m[4]!) ? Number(m[4]) : -1 });
  }
  return out;
}

/** What `--ovs DIR` or the host's own ovs-vsctl/ovs-appctl gave. */
export interface OvsRecord {
  bridges: OvsRow[];
  ports: OvsRow[];
  interfaces: OvsRow[];
  bondShow: OvsBondState[];
  lacpShow: OvsLacp[];
  /** fdb/show per bridge. */
  fdb: Map<string, OvsFdbRow[]>;
  source: string;
}

/**
 * The files `--ovs DIR` reads (record them on the host with these commands):
 *   ovs-vsctl --format=json list Bridge > Bridge.json   (and Port.json, Interface.json)
 *   ovs-appctl bond/show > bond-show.txt;  ovs-appctl lacp/show > lacp-show.txt
 *   for b in $(ovs-vsctl list-br); do ovs-appctl fdb/show $b > fdb-show-$b.txt; done
 */
export const OVS_FILES = { bridges: 'Bridge.json', ports: 'Port.json', interfaces: 'Interface.json', bondShow: 'bond-show.txt', lacpShow: 'lacp-show.txt', fdbPrefix: 'fdb-show-' } as const;

/** Reads a recorded `--ovs DIR`; tables that are missing are empty and said in `warnings`. */
export function readOvsDir(dir: string, warnings: string[]): OvsRecord | null {
  if (!existsSync(dir)) {
    warnings.push(`${dir}: not found (--ovs wants a directory of ovs-vsctl and ovs-appctl output)`);
    return null;
  }
  const text = (f: string): string | null => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return null;
    }
  };
  const table = (f: string): OvsRow[] => {
    const t = text(f);
    if (t === null) {
      warnings.push(`${join(dir, f)}: missing; its table is unknown`);
      return [];
    }
    try {
      return parseOvsTable(t, join(dir, f));
    } catch (err) {
      warnings.push((err as Error).message);
      return [];
    }
  };
  const fdb = new Map<string, OvsFdbRow[]>();
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith(OVS_FILES.fdbPrefix) && f.endsWith('.txt')) fdb.set(f.slice(OVS_FILES.fdbPrefix.length, -4), parseFdbShow(text(f) ?? ''));
  }
  return {
    bridges: table(OVS_FILES.bridges),
    ports: table(OVS_FILES.ports),
    interfaces: table(OVS_FILES.interfaces),
    bondShow: parseBondShow(text(OVS_FILES.bondShow) ?? ''),
    lacpShow: parseLacpShow(text(OVS_FILES.lacpShow) ?? ''),
    fdb,
    source: dir,
  };
}

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout : null;
}

/** On the host itself: asks ovs-vsctl and ovs-appctl, when ovs-vsctl exists and answers; null otherwise. */
export function readOvsLive(warnings: string[]): OvsRecord | null {
  const bridgesText = run('ovs-vsctl', ['--format=json', 'list', 'Bridge']);
  if (bridgesText === null) return null;
  const table = (name: string, t: string | null): OvsRow[] => {
    try {
      return t === null ? [] : parseOvsTable(t, `ovs-vsctl list ${name}`);
    } catch (err) {
      warnings.push((err as Error).message);
      return [];
    }
  };
  const bridges = table('Bridge', bridgesText);
  const fdb = new Map<string, OvsFdbRow[]>();
  for (const b of bridges) if (typeof b.name === 'string') fdb.set(b.name, parseFdbShow(run('ovs-appctl', ['fdb/show', b.name]) ?? ''));
  return {
    bridges,
    ports: table('Port', run('ovs-vsctl', ['--format=json', 'list', 'Port'])),
    interfaces: table('Interface', run('ovs-vsctl', ['--format=json', 'list', 'Interface'])),
    bondShow: parseBondShow(run('ovs-appctl', ['bond/show']) ?? ''),
    lacpShow: parseLacpShow(run('ovs-appctl', ['lacp/show']) ?? ''),
    fdb,
    source: 'ovs-vsctl/ovs-appctl on this host',
  };
}

/** An OVS bridge's learning table as FDB entries on its Port names (the bond's name for a bond member), for the engine's FDB confirmation. */
export interface OvsFdbEntry {
  mac: number;
  port: string;
  isLocal: boolean;
}

/**
 * fdb/show rows of `bridge` named by Port: the row's OpenFlow port number → Interface.ofport →
 * the Port holding that Interface (a bond for a member). "LOCAL" is the bridge's internal port,
 * the host's own stack: entries there are the host's addresses (isLocal).
 */
export function ovsFdbEntries(rec: OvsRecord, bridge: string): OvsFdbEntry[] {
  const ifaceByOfport = new Map<string, string>();
  const ifaceByUuid = new Map<string, string>();
  for (const i of rec.interfaces) {
    if (typeof i.name !== 'string') continue;
    if (typeof i._uuid === 'string') ifaceByUuid.set(i._uuid, i.name);
    const ofport = asList(i.ofport)[0];
    if (typeof ofport === 'number') ifaceByOfport.set(String(ofport), i.name);
  }
  const portOfIface = new Map<string, string>();
  for (const p of rec.ports) {
    if (typeof p.name !== 'string') continue;
    for (const u of asList(p.interfaces)) {
      const n = typeof u === 'string' ? ifaceByUuid.get(u) : undefined;
      if (n) portOfIface.set(n, p.name);
    }
  }
  return (rec.fdb.get(bridge) ?? []).map((r) => {
    if (r.port === 'LOCAL') return { mac: r.mac, port: bridge, isLocal: true };
    const iface = ifaceByOfport.get(r.port);
    return { mac: r.mac, port: iface ? (portOfIface.get(iface) ?? iface) : `ofport ${r.port}`, isLocal: false };
  });
}

/** The OVS database as the topology needs it: bridges, their ports, each port's interfaces and settings. */
export interface OvsLayout {
  bridges: { name: string; ports: string[] }[];
  ports: Map<string, { name: string; bridge: string | null; interfaces: string[]; bondMode: string | null; lacp: string | null; otherConfig: { [k: string]: OvsValue } }>;
  /** Interface name → its type ("" system, internal, patch, …) and MAC in use. */
  interfaces: Map<string, { type: string; mac: number; ofport: number; attachedMac: number }>;
}

export function ovsLayout(rec: OvsRecord): OvsLayout {
  const ifaceByUuid = new Map<string, string>();
  const interfaces = new Map<string, { type: string; mac: number; ofport: number; attachedMac: number }>();
  for (const i of rec.interfaces) {
    if (typeof i.name !== 'string') continue;
    if (typeof i._uuid === 'string') ifaceByUuid.set(i._uuid, i.name);
    const mac = asList(i.mac_in_use)[0];
    const ofport = asList(i.ofport)[0];
    // XCP-ng and XenServer record the guest's MAC behind a vif in external_ids:attached-mac.
    const attached = asMap(i.external_ids)['attached-mac'];
    interfaces.set(i.name, { type: typeof i.type === 'string' ? i.type : '', mac: typeof mac === 'string' ? parseMac(mac) : -1, ofport: typeof ofport === 'number' ? ofport : -1, attachedMac: typeof attached === 'string' ? parseMac(attached) : -1 });
  }
  const portByUuid = new Map<string, string>();
  const ports: OvsLayout['ports'] = new Map();
  for (const p of rec.ports) {
    if (typeof p.name !== 'string') continue;
    if (typeof p._uuid === 'string') portByUuid.set(p._uuid, p.name);
    const bondMode = asList(p.bond_mode)[0];
    const lacp = asList(p.lacp)[0];
    ports.set(p.name, {
      name: p.name,
      bridge: null,
      interfaces: asList(p.interfaces).map((u) => (typeof u === 'string' ? ifaceByUuid.get(u) : undefined)).filter((n): n is string => !!n),
      bondMode: typeof bondMode === 'string' ? bondMode : null,
      lacp: typeof lacp === 'string' ? lacp : null,
      otherConfig: asMap(p.other_config),
    });
  }
  const bridges: OvsLayout['bridges'] = [];
  for (const b of rec.bridges) {
    if (typeof b.name !== 'string') continue;
    const names = asList(b.ports).map((u) => (typeof u === 'string' ? portByUuid.get(u) : undefined)).filter((n): n is string => !!n);
    for (const n of names) ports.get(n)!.bridge = b.name;
    bridges.push({ name: b.name, ports: names.sort() });
  }
  return { bridges, ports, interfaces };
}

/**
 * Live mode's view of Open vSwitch's learning tables, the kernel FDB's equivalent for OVS bridges:
 * reads the database once (to name OpenFlow ports), then `ovs-appctl fdb/show BRIDGE` at most
 * every `everyMs` (it is a process per call).
 */
export class OvsFdbPoller {
  private rec: OvsRecord | null | undefined;
  private readonly last = new Map<string, number>();

  constructor(private readonly everyMs = 2000) {}

  poll(bridge: string, now = Date.now()): OvsFdbEntry[] {
    if ((this.last.get(bridge) ?? -Infinity) + this.everyMs > now) return [];
    this.last.set(bridge, now);
    if (this.rec === undefined) this.rec = readOvsLive([]);
    if (!this.rec) return [];
    this.rec.fdb.set(bridge, parseFdbShow(run('ovs-appctl', ['fdb/show', bridge]) ?? ''));
    return ovsFdbEntries(this.rec, bridge);
  }
}
