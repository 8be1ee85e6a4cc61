/**
 * The findings as the detectors record them: one per (kind, MAC, VLAN), created on first use,
 * each occurrence counted and its frames cited (up to EVIDENCE_LIMIT), bounded per kind so a flood
 * of MACs cannot grow them without end (the mac-flood finding says how many were not kept).
 */
import { DIR_IN, DIR_OUT } from '../model/record.js';
import type { EvidenceSource } from './detectors/context.js';
import { type HostNames, summarize } from './detectors/wording.js';
import { type Confidence, EVIDENCE_LIMIT, type EvidenceRole, explanationFor, type Finding, type FindingKind, type FindingOf, REMEDIES_FOR, SEVERITY } from './findings.js';
import type { MacTable } from './mac-table.js';
import { PLACE_NAMES } from './path.js';
import type { PortTable } from './ports.js';
import type { TimeBase } from './time-base.js';

export function findingKey(kind: FindingKind, mac: number, vlan: number): string {
  return `${kind}|${mac}|${vlan}`;
}

export class FindingStore {
  private readonly findings = new Map<string, Finding>();
  /** Findings kept per kind; past maxPerKind of one kind (a flood) new ones are counted, not kept. */
  private readonly perKind = new Map<FindingKind, number>();
  /** Findings not kept because their kind was at its limit. */
  notKept = 0;

  constructor(
    private readonly ports: PortTable,
    private readonly time: TimeBase,
    /** Findings of one kind kept at most (AnalyzerOptions.maxMacs: as many as MACs tracked). */
    private readonly maxPerKind: number,
  ) {}

  values(): IterableIterator<Finding> {
    return this.findings.values();
  }

  /** The finding if it exists (no occurrence counted). */
  existing<K extends FindingKind>(kind: K, mac: number, vlan: number): FindingOf<K> | undefined {
    return this.findings.get(findingKey(kind, mac, vlan)) as FindingOf<K> | undefined;
  }

  /** The finding of this kind for this MAC and VLAN at engine time t, created on first use; counts one occurrence and cites `refs`. */
  finding<K extends FindingKind>(kind: K, mac: number, vlan: number, t: number, refs: readonly EvidenceSource[], path: string[], confidence: Confidence): FindingOf<K> {
    const key = findingKey(kind, mac, vlan);
    let f = this.findings.get(key) as FindingOf<K> | undefined;
    const sec = this.time.sec(t);
    const nsec = this.time.nsec(t);
    let keep = true;
    if (!f) {
      const n = this.perKind.get(kind) ?? 0;
      if (n >= this.maxPerKind) {
        // As many findings of one kind as MACs tracked: a flood. The caller fills a finding that is dropped.
        this.notKept++;
        keep = false;
      } else this.perKind.set(kind, n + 1);
      f = {
        kind,
        severity: SEVERITY[kind],
        summary: '',
        mac,
        vlan,
        interfaces: [],
        count: 0,
        firstSec: sec,
        firstNsec: nsec,
        lastSec: sec,
        lastNsec: nsec,
        evidence: [],
        confidence,
        explanation: explanationFor(kind),
        remedies: REMEDIES_FOR[kind],
        details: {},
      } as Finding as FindingOf<K>;
      if (keep) this.findings.set(key, f);
    }
    f.count++;
    f.lastSec = sec;
    f.lastNsec = nsec;
    if (confidence === 'high') f.confidence = 'high';
    for (const p of path) if (!f.interfaces.includes(p)) f.interfaces.push(p);
    for (const r of refs) {
      if (f.evidence.length >= EVIDENCE_LIMIT) break;
      if (r.input < 0 || f.evidence.some((e) => e.input === r.input && e.frame === r.frame)) continue;
      const role = r.role ?? (r.place ? (PLACE_NAMES[r.place] as EvidenceRole) : undefined);
      f.evidence.push({
        input: r.input,
        frame: r.frame,
        ...(role && role !== ('unplaced' as string) && role !== ('resend' as string) ? { role } : {}),
        dir: r.dir === DIR_IN ? 'in' : r.dir === DIR_OUT ? 'out' : null,
        port: this.ports.ports[r.port]?.port.name ?? '?',
        occurrence: f.count,
        ...(r.ofState ? { ofState: true } : {}),
      });
    }
    // Kept in the order cited: each occurrence's frames in the order of its path.
    return f;
  }

  /**
   * Once MACs go untracked, the mac-flood finding says how many (kept current while frames arrive,
   * for the live view), as of engine time `latestT`.
   */
  noteFlood(macs: MacTable, latestT: number, host: HostNames): void {
    if (macs.dropped === 0 && this.notKept === 0) return;
    let f = this.findings.get(findingKey('mac-flood', -1, 0));
    if (!f) {
      f = this.finding('mac-flood', -1, 0, latestT, [], [], 'high');
      f.details.limit = this.maxPerKind;
    }
    f.lastSec = this.time.sec(latestT);
    f.lastNsec = this.time.nsec(latestT);
    f.count = macs.dropped;
    f.details.tracked = macs.size;
    f.details.untrackedAtLeast = macs.dropped;
    f.details.untrackedCountSaturated = macs.droppedSaturated ? 'yes' : 'no';
    f.details.findingsNotKept = this.notKept;
    // Worded now, not only at finish(): a live view shows it while the flood goes on.
    f.summary = summarize(f, host);
  }
}
