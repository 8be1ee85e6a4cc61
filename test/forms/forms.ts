/**
 * The forms one lab recording reaches a user in, made from its files with the standard tools
 * (mergecap, editcap, reordercap, tshark, gzip, zstd, head, cp), so that the kernel's truth of the
 * recording (truth.json) still holds for every one of them. A form is a list of input specs as a
 * user types them, with what the transforms did to it: which of the host's ports it still holds,
 * whether their names survived, whether ports were merged into one interface, clocks moved, the
 * capture cut. The oracle (oracle.ts) reads those facts, never the engine's view of them.
 *
 * Transforms are of two kinds. Re-encodings (compression, record order, pcap ↔ pcapng, µs ↔ ns,
 * splitting a pcapng per interface, renaming files among names that say nothing) hold the same
 * frames with the same facts: the analysis must be the same. Weakenings (a subset of the ports,
 * names lost, interfaces merged, a clock moved, a cut, a shorter snapshot, a slice of the time)
 * hold less: the analysis may prove less, never something else.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/tools.js';
import { readAll } from '../helpers/rewrite.js';
import { parseInputSpec } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import type { RecordedTruth } from '../lab/lab.js';

export const CAPTURES = join(PROJECT_ROOT, 'captures');

/** A recording's truth.json (the lab's own record of the kernel's state). */
export type Truth = RecordedTruth;

export interface Recording {
  name: string;
  dir: string;
  truth: Truth;
  /** The host's interface names by role, from what the lab built (truth.json's params). */
  slaves: string[];
  bond: string;
  bridge: string;
  /** Every guest's port and the hops of its chain (Proxmox's firewall bridge, veths). */
  guestSide: string[];
  /** ifindex → name, from the recording's `ip -j link` (the lab's truth of an -i any capture's ifindexes). */
  ifindex: Map<string, number>;
}

export function recordings(): Recording[] {
  return readdirSync(CAPTURES)
    .filter((d) => existsSync(join(CAPTURES, d, 'truth.json')))
    .sort()
    .map((name) => {
      const dir = join(CAPTURES, name);
      const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
      const links = JSON.parse(readFileSync(join(dir, 'links.json'), 'utf8')) as { ifindex: number; ifname: string }[];
      const p = truth.params;
      const known = new Set([...p.slaves, p.bond, p.bridge]);
      return {
        name,
        dir,
        truth,
        slaves: p.slaves.filter((s) => truth.interfaces.includes(s)),
        bond: p.bond,
        bridge: p.bridge,
        guestSide: truth.interfaces.filter((i) => !known.has(i)),
        ifindex: new Map(links.map((l) => [l.ifname, l.ifindex])),
      };
    });
}

/** What a form holds, as the transforms made it: facts for the oracle. */
export interface Form {
  rec: Recording;
  /** The transforms that made it, base form first: printed when a check fails. */
  chain: string[];
  /** Input specs as typed on the command line. */
  specs: string[];
  /** An -i any capture's links.json, when given. */
  links: string | null;
  /** The host's interfaces whose frames the form holds (all of a port's frames, unless cut or sliced). */
  ports: string[];
  /** Whether the interfaces still carry the host's names (if_name, the file's name, --links). */
  named: boolean;
  /** Several ports' frames in one interface: which port saw a copy is lost. */
  collapsed: boolean;
  /** Linux cooked (-i any): direction and ifindex in each frame, no destination MAC. */
  cooked: boolean;
  /** One file's clock moved against the others (a second machine's capture). */
  shifted: boolean;
  /**
   * How: which input (index into specs; null once the files were merged into one, or split again)
   * and by how many ns its stamps were moved (editcap -t). Null when no clock was moved.
   */
  shift: { at: number | null; ns: number } | null;
  /** The capture stops part way (damage at its end is expected). */
  cut: boolean;
  /** Part of the run only (a time slice or a cut): findings required of the whole run may be missing. */
  partial: boolean;
  /** Bytes kept of each frame, when cut afterwards. */
  snap: number | null;
  /**
   * Where a transform renamed the files: the host's name of the port each new file stem stands
   * for (`capture3` → `bond0`). A port name not in it is the host's own (if_name, or never renamed).
   */
  trueNames: Record<string, string> | null;
}

/** The host's name of a port as the form names it (the engine's name: a file stem, an if_name, FILE#N). */
export function trueName(f: Form, port: string): string {
  return f.trueNames?.[port] ?? port;
}


/** A transform: a new form from a form, or null where it does not apply. */
export interface Transform {
  name: string;
  /** Same frames, same facts: the analysis must be the same as its parent's. */
  reencoding: boolean;
  apply(f: Form, work: string): Form | null;
}

let counter = 0;
/** A fresh folder for one transform's output, under the run's work folder. */
function fresh(work: string, what: string): string {
  const d = join(work, `${++counter}-${what}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** The name the reader gives a spec's file's interface (NAME of NAME=PATH, else the file's stem). */
const specOwnName = (spec: string): string => parseInputSpec(spec).name;
const stem = specOwnName;

/** The path of a spec (NAME=PATH → PATH). */
export function pathOf(spec: string): string {
  const eq = spec.indexOf('=');
  return eq > 0 && !existsSync(spec) ? spec.slice(eq + 1) : spec;
}

export const HAS_TOOLS = ['mergecap', 'editcap', 'reordercap', 'tshark', 'capinfos', 'gzip', 'zstd'].every((t) => spawnSync(t, t === 'gzip' || t === 'zstd' ? ['--version'] : ['-h'], { stdio: 'ignore' }).status === 0);

/** Per frame of a file, the interface (name, or ifindex for -i any) tshark says it was captured on: tshark is the oracle here, not bondscope's reader. */
const portsOfFrames = new Map<string, string[]>();
function framePorts(file: string, cooked: boolean): string[] {
  const key = `${file}|${cooked}`;
  let v = portsOfFrames.get(key);
  if (!v) {
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', cooked ? 'sll.ifindex' : 'frame.interface_name'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`tshark -r ${file}: ${r.stderr}`);
    v = r.stdout.replace(/\n$/, '').split('\n');
    portsOfFrames.set(key, v);
  }
  return v;
}

/** editcap -r: the frames of `file` whose numbers are given, in a new file. */
function keepFrames(file: string, numbers: number[], out: string, format: string[] = []): void {
  // Ranges keep the argument list short.
  const ranges: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    ranges.push(i === j ? String(numbers[i]) : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  if (!ranges.length) ranges.push('0'); // editcap -r with no frame: an empty capture of the same form
  run('editcap', [...format, '-r', file, out, ...ranges]);
}

export function base(rec: Recording, which: 'pcapng' | 'pcaps' | 'any'): Form {
  const common = { rec, collapsed: false, shifted: false, shift: null, cut: false, partial: false, snap: null, trueNames: null };
  if (which === 'pcapng') return { ...common, chain: ['pcapng'], specs: [join(rec.dir, `${rec.name}.pcapng`)], links: null, ports: [...rec.truth.interfaces], named: true, cooked: false };
  if (which === 'pcaps') return { ...common, chain: ['pcaps'], specs: rec.truth.interfaces.map((i) => join(rec.dir, `${i}.pcap`)), links: null, ports: [...rec.truth.interfaces], named: true, cooked: false };
  return { ...common, chain: ['any'], specs: [join(rec.dir, 'any.pcap')], links: join(rec.dir, 'links.json'), ports: [...rec.truth.interfaces], named: true, cooked: true };
}

/** A deterministic shuffle (the chain's text seeds it): file order and names vary, runs repeat. */
function shuffled<T>(xs: T[], seed: string): T[] {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    const j = h % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const derive = (f: Form, name: string, o: Partial<Form>): Form => ({ ...f, chain: [...f.chain, name], ...o });

/** The files copied under names that say nothing (`stemOf(i)` for the i-th), in an order of their own (seeded by the chain). */
function renamed(f: Form, work: string, name: string, seed: string, stemOf: (i: number) => string): Form | null {
  if (single(f) || f.cooked) return null;
  const d = fresh(work, name.replace(/ /g, '-'));
  const order = shuffled(f.specs, `${f.chain.join('/')}${seed}`);
  const trueNames: Record<string, string> = {};
  const specs = order.map((s, i) => {
    const p = pathOf(s);
    const ext = p.slice(p.indexOf('.', p.lastIndexOf('/')));
    const out = join(d, `${stemOf(i)}${ext}`);
    copyFileSync(p, out);
    trueNames[stem(out)] = trueName(f, specOwnName(s));
    return out;
  });
  return derive(f, name, { specs, named: false, shift: reordered(f, order), trueNames });
}
/** The shift of a form whose specs were reordered or some left out (`specs`, from f.specs): where the shifted one went, null if it went. */
const reordered = (f: Form, specs: string[]): Form['shift'] => {
  if (!f.shift || f.shift.at === null) return f.shift;
  const at = specs.indexOf(f.specs[f.shift.at]!);
  return at < 0 ? null : { ...f.shift, at };
};
const single = (f: Form): boolean => f.specs.length === 1;

/** Which of the host's ports a subset keeps. */
const SUBSETS: Record<string, (r: Recording) => string[]> = {
  'slaves only': (r) => r.slaves,
  'bond only': (r) => [r.bond],
  'one slave and the bond': (r) => [r.slaves[0]!, r.bond],
  'both slaves and the bond': (r) => [...r.slaves, r.bond],
  'bridge and guests only': (r) => [r.bridge, ...r.guestSide],
  'guests only': (r) => r.guestSide,
  'no bridge': (r) => r.truth.interfaces.filter((i) => i !== r.bridge),
  // The slaves and the host side without the bond between them: an echo back in on a slave may or
  // may not have gone up it, and only the bridge's copies can tell.
  'no bond': (r) => r.truth.interfaces.filter((i) => i !== r.bond),
  'no guests': (r) => [...r.slaves, r.bond, r.bridge],
  'one slave alone': (r) => [r.slaves[r.slaves.length - 1]!],
};

export const TRANSFORMS: Transform[] = [
  {
    name: 'gzip',
    reencoding: true,
    apply: (f, work) => {
      if (f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s)))) return null;
      const d = fresh(work, 'gzip');
      const specs = f.specs.map((s) => {
        const out = join(d, `${basename(pathOf(s))}.gz`);
        writeFileSync(out, execFileSync('gzip', ['-c', pathOf(s)], { maxBuffer: 1 << 28 }));
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'gzip', { specs });
    },
  },
  {
    name: 'zstd',
    reencoding: true,
    apply: (f, work) => {
      if (f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s)))) return null;
      const d = fresh(work, 'zstd');
      const specs = f.specs.map((s) => {
        const out = join(d, `${basename(pathOf(s))}.zst`);
        writeFileSync(out, execFileSync('zstd', ['-q', '-c', pathOf(s)], { maxBuffer: 1 << 28 }));
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'zstd', { specs });
    },
  },
  {
    name: 'reordercap',
    reencoding: true,
    apply: (f, work) => {
      if (!single(f) || /\.(gz|zst)$/.test(f.specs[0]!) || f.cut) return null;
      const out = join(fresh(work, 'reorder'), basename(pathOf(f.specs[0]!)));
      run('reordercap', [pathOf(f.specs[0]!), out]);
      return derive(f, 'reordercap', { specs: [out] });
    },
  },
  {
    // dumpcap writes each interface's frames in batches: the file is not in time order.
    name: 'batched',
    reencoding: true,
    apply: (f, work) => {
      if (!single(f) || f.cooked || f.collapsed || f.cut || /\.(gz|zst)$/.test(f.specs[0]!)) return null;
      const recs = readAll(f.specs);
      if (new Set(recs.map((r) => r.iface)).size < 2) return null;
      const out = join(fresh(work, 'batched'), basename(pathOf(f.specs[0]!)).replace(/\.pcap$/, '.pcapng'));
      const by = new Map<string, typeof recs>();
      for (const r of recs) (by.get(r.iface) ?? by.set(r.iface, []).get(r.iface)!).push(r);
      const w = new PcapngWriter(out);
      const ids = new Map<string, number>();
      // Interfaces in turn, each handing over what it captured in the next 200 ms of its own time.
      const queues = [...by.entries()];
      const at = new Map(queues.map(([n]) => [n, 0]));
      for (let t0 = Math.min(...recs.map((r) => r.t)); queues.some(([n, l]) => at.get(n)! < l.length); t0 += 200e6) {
        for (const [n, l] of shuffled(queues, `${f.chain.join('/')}${t0}`)) {
          let i = at.get(n)!;
          for (; i < l.length && l[i]!.t < t0 + 200e6; i++) {
            const r = l[i]!;
            let id = ids.get(n);
            if (id === undefined) ids.set(n, (id = w.addInterface({ name: n, linkType: r.linkType, snaplen: 262144, tsDigits: 9 })));
            w.writePacket(id, Math.floor(r.t / 1e9), r.t % 1e9, r.bytes, 0, r.bytes.length, r.origLen, r.direction ? { direction: r.direction } : undefined);
          }
          at.set(n, i);
        }
      }
      w.close();
      return derive(f, 'batched', { specs: [out] });
    },
  },
  {
    name: 'pcap ↔ pcapng',
    reencoding: true,
    apply: (f, work) => {
      if (f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s))) || f.cut) return null;
      // A multi-interface pcapng to pcap merges its interfaces: that is 'saved as pcap', below.
      if (single(f) && !f.collapsed && f.ports.length > 1 && !f.cooked && pathOf(f.specs[0]!).endsWith('.pcapng')) return null;
      const d = fresh(work, 'format');
      const specs = f.specs.map((s) => {
        const p = pathOf(s);
        const toNg = !p.endsWith('.pcapng');
        const out = join(d, basename(p).replace(/\.(pcap|pcapng)$/, toNg ? '.pcapng' : '.pcap'));
        run('editcap', ['-F', toNg ? 'pcapng' : 'pcap', p, out]);
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'pcap ↔ pcapng', { specs });
    },
  },
  {
    name: 'nanoseconds',
    reencoding: true,
    apply: (f, work) => {
      if (f.specs.some((s) => !pathOf(s).endsWith('.pcap'))) return null;
      const d = fresh(work, 'nsec');
      const specs = f.specs.map((s) => {
        const out = join(d, basename(pathOf(s)));
        run('editcap', ['-F', 'nsecpcap', pathOf(s), out]);
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'nanoseconds', { specs });
    },
  },
  {
    // One file per interface, as if each had its own tcpdump: the same frames, stamps and names,
    // but no longer when each interface's capture began (a file's window starts at its first
    // frame), so a weakening: a frame seen before a quiet port's first one proves less.
    name: 'split per interface',
    reencoding: false,
    apply: (f, work) => {
      if (!single(f) || f.collapsed || !f.named || f.cut || /\.(gz|zst)$/.test(f.specs[0]!)) return null;
      const file = pathOf(f.specs[0]!);
      const per = framePorts(file, f.cooked);
      const d = fresh(work, 'split');
      const names = [...new Set(per)].filter((n) => n !== '');
      if (names.length < 2) return null;
      const specs = names.map((n) => {
        const out = join(d, `${f.cooked ? `if${n}` : n}.${f.cooked ? 'pcap' : 'pcapng'}`);
        keepFrames(file, per.flatMap((x, i) => (x === n ? [i + 1] : [])), out);
        return out;
      });
      return derive(f, 'split per interface', { specs });
    },
  },
  {
    name: 'renamed',
    reencoding: false,
    apply: (f, work) => renamed(f, work, 'renamed', '', (i) => `capture${i + 1}`),
  },
  {
    name: 'renamed otherwise',
    reencoding: false,
    apply: (f, work) => renamed(f, work, 'renamed otherwise', '#2', (i) => String.fromCharCode(97 + ((i * 7) % 26))),
  },
  {
    // mergecap -I none: one IDB per input, none of them named (the inputs are classic pcaps).
    name: 'merged, names lost',
    reencoding: false,
    apply: (f, work) => {
      if (single(f) || f.cooked) return null;
      const out = join(fresh(work, 'merged'), 'merged.pcapng');
      run('mergecap', ['-I', 'none', '-w', out, ...f.specs.map(pathOf)]);
      return derive(f, 'merged, names lost', { specs: [out], named: false, shift: f.shift && { ...f.shift, at: null } });
    },
  },
  {
    // mergecap's default (-I all) folds interfaces that look alike into one: copies of a frame
    // from several ports end up on one interface.
    name: 'merged into one interface',
    reencoding: false,
    apply: (f, work) => {
      if (single(f) || f.cooked) return null;
      const out = join(fresh(work, 'collapsed'), 'merged.pcapng');
      run('mergecap', ['-w', out, ...f.specs.map(pathOf)]);
      return derive(f, 'merged into one interface', { specs: [out], named: false, collapsed: f.ports.length > 1, shift: f.shift && { ...f.shift, at: null } });
    },
  },
  {
    // Wireshark's "save as pcap" of a multi-interface pcapng: one interface, the file's name.
    name: 'saved as pcap',
    reencoding: false,
    apply: (f, work) => {
      if (!single(f) || f.cooked || f.ports.length < 2 || !pathOf(f.specs[0]!).endsWith('.pcapng')) return null;
      const out = join(fresh(work, 'aspcap'), basename(pathOf(f.specs[0]!)).replace(/\.pcapng$/, '.pcap'));
      run('editcap', ['-F', 'pcap', pathOf(f.specs[0]!), out]);
      return derive(f, 'saved as pcap', { specs: [out], named: false, collapsed: true });
    },
  },
  {
    name: 'without --links',
    reencoding: false,
    apply: (f) => (f.cooked && f.links ? derive(f, 'without --links', { links: null, named: false }) : null),
  },
  ...Object.entries(SUBSETS).map(
    ([name, pick]): Transform => ({
      name,
      reencoding: false,
      apply: (f, work) => {
        if (f.collapsed || f.cut || f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s)))) return null;
        const keep = pick(f.rec).filter((p) => f.ports.includes(p));
        if (!keep.length || keep.length === f.ports.length) return null;
        if (!single(f)) {
          // Files of their own: only possible when each file is one port (its name says which, or the chain knows).
          if (!f.named) return null;
          const specs = f.specs.filter((s) => keep.includes(basename(pathOf(s)).replace(/\..*$/, '')));
          if (specs.length !== keep.length) return null;
          const shift = reordered(f, specs);
          return derive(f, name, { specs, ports: keep, shift, shifted: f.shifted && shift !== null });
        }
        const file = pathOf(f.specs[0]!);
        const per = framePorts(file, f.cooked);
        const want = new Set(f.cooked ? keep.map((p) => String(f.rec.ifindex.get(p))) : keep);
        const out = join(fresh(work, 'subset'), basename(file));
        keepFrames(file, per.flatMap((x, i) => (want.has(x) ? [i + 1] : [])), out);
        return derive(f, name, { specs: [out], ports: keep });
      },
    }),
  ),
  {
    // A second machine's capture of one port (a switch's mirror port): its clock a few hundred ms off.
    name: 'one file 350 ms late',
    reencoding: false,
    apply: (f, work) => {
      if (single(f) || f.shifted || f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s)))) return null;
      const i = f.specs.length - 1 - (shuffled([...f.specs.keys()], f.chain.join('/'))[0]! % Math.min(2, f.specs.length));
      const d = fresh(work, 'shift');
      const specs = f.specs.map((s, k) => {
        if (k !== i) return s;
        const out = join(d, basename(pathOf(s)));
        run('editcap', ['-t', '0.35', pathOf(s), out]);
        return out;
      });
      return derive(f, 'one file 350 ms late', { specs, shifted: true, shift: { at: i, ns: 0.35e9 } });
    },
  },
  {
    name: 'one file 200 ms early',
    reencoding: false,
    apply: (f, work) => {
      if (single(f) || f.shifted || f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s)))) return null;
      const i = shuffled([...f.specs.keys()], `${f.chain.join('/')}early`)[0]!;
      const d = fresh(work, 'shift');
      const specs = f.specs.map((s, k) => {
        if (k !== i) return s;
        const out = join(d, basename(pathOf(s)));
        run('editcap', ['-t', '-0.2', pathOf(s), out]);
        return out;
      });
      return derive(f, 'one file 200 ms early', { specs, shifted: true, shift: { at: i, ns: -0.2e9 } });
    },
  },
  {
    // tcpdump killed: each file ends part way into a block.
    name: 'cut short',
    reencoding: false,
    apply: (f, work) => {
      if (f.cut) return null;
      const d = fresh(work, 'cut');
      const specs = f.specs.map((s) => {
        const p = pathOf(s);
        const bytes = readFileSync(p);
        const out = join(d, basename(p));
        // Past the header, into a block: 70% of the bytes and a few more, moved on until capinfos
        // (Wireshark's reader, the oracle here) says the file ends in the middle of a packet.
        // A compressed file cut anywhere ends inside its compressed stream.
        for (let k = 5; k < 200; k++) {
          writeFileSync(out, bytes.subarray(0, Math.max(40, Math.floor(bytes.length * 0.7) + k)));
          if (/\.(gz|zst)$/.test(p) || spawnSync('capinfos', ['-c', out], { stdio: 'ignore' }).status !== 0) break;
        }
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'cut short', { specs, cut: true, partial: true });
    },
  },
  {
    name: 'snapshot 96 bytes',
    reencoding: false,
    apply: (f, work) => {
      if (f.snap !== null || f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s))) || f.cut) return null;
      const d = fresh(work, 'snap');
      const specs = f.specs.map((s) => {
        const out = join(d, basename(pathOf(s)));
        run('editcap', ['-s', '96', pathOf(s), out]);
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'snapshot 96 bytes', { specs, snap: 96 });
    },
  },
  {
    // Only the second half of the run (a capture started late), every file at the same moment.
    name: 'second half',
    reencoding: false,
    apply: (f, work) => {
      if (f.specs.some((s) => /\.(gz|zst)$/.test(pathOf(s))) || f.cut || f.shifted) return null;
      const first = readAll([pathOf(f.specs[0]!)]);
      if (!first.length) return null;
      const times = f.specs.flatMap((s) => readAll([pathOf(s)]).map((r) => r.t));
      const mid = (Math.min(...times) + Math.max(...times)) / 2 / 1e9;
      const d = fresh(work, 'half');
      const at = new Date(mid * 1000).toISOString().replace('Z', '').replace('T', ' ');
      const specs = f.specs.map((s) => {
        const out = join(d, basename(pathOf(s)));
        run('editcap', ['-A', `${at}Z`, pathOf(s), out]);
        return s.includes('=') && !existsSync(s) ? `${s.slice(0, s.indexOf('='))}=${out}` : out;
      });
      return derive(f, 'second half', { specs, partial: true });
    },
  },
];

export function transform(name: string): Transform {
  const t = TRANSFORMS.find((x) => x.name === name);
  if (!t) throw new Error(`no transform ${name}`);
  return t;
}
