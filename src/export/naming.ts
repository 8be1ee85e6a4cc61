/**
 * How a bundle names things: as they are, or sanitized (MACs and IPs mapped, interfaces called by
 * their role: slave0, bond0, bridge0, guest0, port0 for one of unknown role, input files input1…).
 * Every string the bundle writes about the capture goes through one Naming.
 */
import { extname } from 'node:path';
import type { CaptureInterface } from '../model/record.js';
import { formatMac } from '../model/mac.js';
import type { PortRole } from '../model/topology.js';
import { LOCALLY_ADMINISTERED, vendorOf } from '../report/vendor.js';
import { AddressMapper } from './sanitize.js';

const ROLE_PREFIX: Record<PortRole, string> = { slave: 'slave', bond: 'bond', bridge: 'bridge', guest: 'guest', unknown: 'port' };

export interface PortLike {
  name: string;
  role: PortRole;
}

/** A name-like token of free text: what a whole name is bounded by. */
const TOKEN = /[\w.:@#/-]+/g;
const TOKEN_ONLY = /^[\w.:@#/-]+$/;

export class Naming {
  private readonly ports = new Map<string, string>();
  private readonly inputs: string[];
  /**
   * Original → new names. A name made of the characters a name-like token holds ([\w.:@#/-]) is
   * looked up once per token of the text (one pass, whatever the number of interfaces: a capture
   * may hold thousands); any other name (with a space, an escape) by a regular expression of its
   * own, longest first (so `vif1.0` is replaced before a shorter name inside it).
   */
  private readonly byToken = new Map<string, string>();
  private readonly replacements: [RegExp, string][] = [];

  constructor(
    readonly mapper: AddressMapper | null,
    ports: PortLike[],
    interfaces: CaptureInterface[],
    inputNames: string[],
  ) {
    if (mapper) {
      const byRole = new Map<PortRole, string[]>();
      for (const p of ports) {
        const list = byRole.get(p.role) ?? [];
        if (!list.includes(p.name)) list.push(p.name);
        byRole.set(p.role, list);
      }
      for (const [role, names] of byRole) {
        names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
        names.forEach((n, i) => this.ports.set(n, `${ROLE_PREFIX[role]}${i}`));
      }
      // Capture interfaces that are no port (an SLL2 `any` capture): `any` says nothing; others by number.
      let k = 0;
      for (const i of interfaces) {
        if (this.ports.has(i.name)) continue;
        this.ports.set(i.name, i.linkType === 276 && i.name === 'any' ? 'any' : `capture${k++}`);
      }
      this.inputs = inputNames.map((n, i) => `input${i + 1}${/^\.(pcapng|pcap|cap)$/i.test(extname(n)) ? extname(n).toLowerCase() : ''}`);
      const pairs: [string, string][] = [...this.ports].filter(([a, b]) => a !== b);
      inputNames.forEach((n, i) => pairs.push([n, this.inputs[i]!]));
      pairs.sort((a, b) => b[0].length - a[0].length);
      for (const [from, to] of pairs) {
        if (TOKEN_ONLY.test(from)) {
          if (!this.byToken.has(from)) this.byToken.set(from, to);
          continue;
        }
        const esc = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        // Whole names only: not inside a longer name; a trailing sentence dot, or a colon before a
        // space ("xenbr0: received packet on …", "behind vif1.0: unreachable"), is fine.
        this.replacements.push([new RegExp(`(?<![\\w.:@#/-])${esc}(?![\\w@#/-]|:(?!\\s)|\\.\\w)`, 'g'), to]);
      }
    } else this.inputs = inputNames.slice();
  }

  get sanitized(): boolean {
    return this.mapper !== null;
  }

  /** Whether `name` is a port or capture interface of the bundle (sanitized bundles name only those). */
  knows(name: string): boolean {
    return !this.mapper || this.ports.has(name);
  }

  port(name: string): string {
    return this.ports.get(name) ?? name;
  }

  mac(mac: number): string {
    return formatMac(this.mapper ? this.mapper.mapMac(mac) : mac);
  }

  /** The MAC with its vendor in words where one is known ("02:…:11 (Xensource)"), so sanitizing keeps that. */
  macWithVendor(mac: number): string {
    const v = vendorOf(mac);
    return v && v !== LOCALLY_ADMINISTERED ? `${this.mac(mac)} (${v})` : this.mac(mac);
  }

  input(i: number): string {
    return this.inputs[i] ?? `input${i + 1}`;
  }

  /** Free text from the engine (summaries, reasons): MACs, IPv4 addresses, names replaced. */
  text(s: string): string {
    if (!this.mapper) return s;
    let out = this.mapper.mapText(s);
    for (const [re, to] of this.replacements) out = out.replace(re, to);
    if (this.byToken.size === 0) return out;
    // Whole tokens only (not inside a longer name); a trailing sentence dot, or a colon before a
    // space or the end ("xenbr0: received packet on …"), stays outside the name.
    return out.replace(TOKEN, (t: string, at: number, all: string) => {
      const hit = this.byToken.get(t);
      if (hit !== undefined) return hit;
      const last = t[t.length - 1];
      if (last === '.' || (last === ':' && (at + t.length >= all.length || /\s/.test(all[at + t.length]!)))) {
        const base = this.byToken.get(t.slice(0, -1));
        if (base !== undefined) return base + last;
      }
      return t;
    });
  }

  /**
   * Engine text for people (the report): as text(), and a mapped MAC keeps its vendor in words
   * ("guest 02:…:c2 (Xensource)"), which sanitizing would otherwise take away with the OUI.
   */
  prose(s: string): string {
    if (!this.mapper) return s;
    const m = this.mapper;
    const marked = s.replace(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi, (t) => {
      const mac = parseInt(t.replace(/:/g, ''), 16);
      const v = vendorOf(mac);
      return v && v !== LOCALLY_ADMINISTERED && m.mapMac(mac) !== mac ? `${t} (${v})` : t;
    });
    return this.text(marked);
  }

  /** A JSON value with every string and key passed through text(). */
  json(v: unknown): unknown {
    if (!this.mapper) return v;
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.json(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.text(k), this.json(x)]));
    return v;
  }

  /** Names that must not appear in a sanitized bundle: every original name that was replaced. */
  originalNames(): string[] {
    return [...this.ports].filter(([a, b]) => a !== b).map(([a]) => a);
  }
}
