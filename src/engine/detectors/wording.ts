/**
 * The one place that words the engine's finding kinds: each kind's summary, and what each
 * evidence frame shows, from the tags the detectors gave it (its place in the path or its part in
 * the finding). The report, the evidence bundle and the UI print these; none of them works a
 * path out again. (Each kind's explanation and remedies are in findings.ts.)
 */
import { formatMac } from '../../model/mac.js';
import type { EvidenceRole, Finding } from '../findings.js';

/** What the summaries need to know of the host. */
export interface HostNames {
  /** The port of a guest's MAC, null when not a known guest. */
  guestPortName(mac: number): string | null;
  /** The role of a port by name, null when not seen. */
  roleOf(port: string): string | null;
}

/** A duration as a person reads it: "13.5 s", "2.39 s", "840 ms", "0.011 ms". */
export function duration(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(ms >= 1 ? 1 : 3)} ms`;
}

export function summarize(f: Finding, host: HostNames): string {
  const mac = f.mac >= 0 ? formatMac(f.mac) : '';
  const vlan = f.vlan ? ` on VLAN ${f.vlan}` : '';
  const n = `${f.count} time${f.count === 1 ? '' : 's'}`;
  switch (f.kind) {
    case 'looped-broadcast':
      return `broadcasts from ${mac}${vlan} came back in on ${f.interfaces.find((p) => host.roleOf(p) === 'bond') ?? 'the bond'} ${n} (path ${f.interfaces.join(' → ')}${f.details.loopDelayUs !== undefined ? `, loop delay ${f.details.loopDelayUs} µs` : ''})`;
    case 'own-address':
      if (f.details.source === 'kernel log') return f.summary;
      return `frames from the host's own ${mac}${vlan} arrived on ${f.interfaces.join(', ')} ${n}${f.details.kernelWarnings ? `; the kernel logged ${f.details.kernelWarnings} own-address warning${f.details.kernelWarnings === 1 ? '' : 's'}` : ''}`;
    case 'wrong-port-learning': {
      const where = host.guestPortName(f.mac) ?? 'its port';
      const bond = f.interfaces.find((p) => host.roleOf(p) === 'bond') ?? 'the bond';
      // The time within the capture the bridge had it there (every episode, the last one included).
      const ms = f.details.wrongMs;
      const lasted = ms !== undefined ? `: there for ${duration(ms)}${f.details.sinceFirstMs !== undefined && f.details.sinceFirstMs > ms ? ` of the ${duration(f.details.sinceFirstMs)} from the first time to the end of the capture` : ' from the first time to the end of the capture'}` : '';
      const still = f.details.wrongAtEnd ? ', still there when the capture ended' : ms !== undefined ? `, back on ${where} at the end` : '';
      const confirmed = f.details.kernelConfirmed ? ` (confirmed: ${f.details.kernelConfirmed})` : '';
      return `the bridge learned guest ${mac}${vlan} on ${bond} instead of ${where} ${n}${lasted}${still}${confirmed}`;
    }
    case 'blackholed-unicast':
      return `${n} unicast for guest ${mac}${vlan} arrived on ${f.interfaces[0]} and never reached ${f.interfaces[1]}`;
    case 'mac-flap':
      return `${mac}${vlan} moved between ${f.interfaces.join(', ')} ${f.details.moves} times`;
    case 'mac-move':
      return `${mac}${vlan} moved once from ${f.details.from} to ${f.details.to} and stayed`;
    case 'switch-reflection': {
      const [out, back] = f.interfaces;
      const more = f.details.moreMacs ? ` and ${f.details.moreMacs} more` : '';
      return `${n}, a frame left by ${out} and came in again on ${back ?? 'another slave'} (${delays(f.details)}; frames of ${f.details.macs}${more}, taken as the host's or its guests' by their MACs): the switches deliver it to both NICs; harmless unless the bond passes up what arrives on ${back ?? 'that slave'}, which the captures running then (the slaves' alone) cannot show`;
    }
    case 'echo-or-repeat': {
      const more = f.details.moreMacs ? ` and ${f.details.moreMacs} more` : '';
      return `${n}, a frame went out of ${f.interfaces[0]} and came in on it again (${delays(f.details)}; from ${f.details.macs}${more}): an echo or the sender repeating itself, which the bond alone cannot tell`;
    }
    case 'mac-flood': {
      const more = f.details.untrackedCountSaturated === 'yes' ? `at least ${f.count}` : `${f.count}`;
      const lost = Number(f.details.findingsNotKept) > 0 ? `; ${f.details.findingsNotKept} findings about them not kept` : '';
      return `MAC flood: source MACs past the limit of ${f.details.limit} tracked one by one; ${more} more seen, counted only in the totals${lost}`;
    }
    default:
      // Kinds whose summary is written where they are found (configuration, control-plane checks).
      return f.summary;
  }
}


/** The shortest and longest time between a frame and its return, in words. */
function delays(d: { minDelayUs?: number | string; maxDelayUs?: number | string }): string {
  if (d.minDelayUs === undefined) return 'delay not known';
  return d.minDelayUs === d.maxDelayUs ? `after ${d.minDelayUs} µs` : `after ${d.minDelayUs}–${d.maxDelayUs} µs`;
}

/** What the description of one evidence frame is given: names as the sink shows them (sanitized or not). */
export interface FrameWords {
  /** The frame's port, and that port's role. */
  port: string;
  portRole: string;
  role: EvidenceRole | undefined;
  /** The MAC as the sink labels it. */
  mac: string;
  /** Frame numbers and port of the occurrence's origin (the frame it is a copy of; itself when it is the origin). */
  originNo: string;
  originPort: string;
  isOrigin: boolean;
  /** For a blackholed unicast: the frame that set the state and its port; for a move: the last frame on the old port. */
  stateNo: string | null;
  statePort: string | null;
  /** For a state frame: the frame it explains. */
  ofNo: string | null;
  /** The guest's port for a blackholed unicast, the old port for a move. */
  guestPort: string;
  from: string;
}

/** What one evidence frame shows, for a data-plane kind; null for the others (their frame's summary says it). */
export function describeFrame(f: Finding, w: FrameWords): string | null {
  const { port, role, originNo: o, originPort } = w;
  switch (f.kind) {
    case 'looped-broadcast':
    case 'wrong-port-learning':
    case 'own-address':
      switch (role) {
        case 'original':
          return `${f.kind === 'own-address' ? "the host's own frame, " : ''}${w.portRole === 'guest' ? `sent by the guest on ${port}` : w.portRole === 'bridge' ? `sent by the host on ${port}` : `sent by ${port} itself`}`;
        case 'out':
          return w.portRole === 'slave' ? `frame ${o} leaving by ${port}` : `frame ${o} going out of ${port}`;
        case 'echo':
          return `frame ${o} flooded back in on ${port} (echo)`;
        case 'up-the-bond':
          if (f.kind === 'own-address') return `the host's own frame came back in on ${port}${w.isOrigin ? '' : ` (echo of frame ${o} sent by ${originPort})`}`;
          return `echo of frame ${o} sent by ${originPort}, passed up by ${port}${f.kind === 'wrong-port-learning' ? `: the bridge learns ${w.mac} on ${port}` : ''}`;
        case 'flooded':
          return `frame ${o} flooded by the bridge to ${port}`;
        case 'echo-flooded':
          return `the echo of frame ${o} flooded by the bridge to ${port}`;
        default:
          return `frame ${o}, on ${port}`;
      }
    case 'blackholed-unicast':
      if (role === 'set-state') return `this echo taught the bridge the guest on ${port}, before the unicast in frame ${w.ofNo}`;
      if (role === 'promiscuous') return `the same unicast as frame ${o}, seen by the bridge device ${port}: tcpdump's promiscuous copy of what the bridge received, not a delivery`;
      if (role === 'inbound' || role === 'flooded') return `the same unicast as frame ${o}, seen on ${port}`;
      if (role !== 'blackholed') return `the echo that taught the bridge the guest on the bond: ${role ?? 'a copy'} on ${port}`;
      return `unicast for the guest arrived on ${port} and never reached ${w.guestPort}${w.stateNo !== null ? `; the bridge had the guest on ${w.statePort} since frame ${w.stateNo}` : ''}`;
    case 'mac-flap':
      return `the bridge learns it on ${port} here, the last of ${f.details.moves ?? f.count} moves`;
    case 'mac-move':
      if (role === 'last-before-move') return `its last frame on ${port} before it moved (frame ${w.ofNo})`;
      return `arrives on ${port}: moved from ${w.from}${w.stateNo !== null ? ` (last seen there in frame ${w.stateNo})` : ''} and stayed`;
    default:
      return null;
  }
}
