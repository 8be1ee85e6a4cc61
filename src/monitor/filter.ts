/**
 * What the monitor captures by default: only what the diagnosis needs, so a busy host's unicast
 * between outside hosts stays in the kernel (the BPF filter drops it before any copy):
 *  - every broadcast and multicast arriving on a port (the looped frames coming back; the
 *    switches' BPDUs at 01:80:c2:00:00:00 and LACPDUs at 01:80:c2:00:00:02 are multicast too);
 *  - every frame from or to one of the host's own MACs or its guests' MACs (their broadcasts on
 *    the way out and back, own-address frames, wrong-port learning, unicast for a guest that the
 *    bridge drops).
 * Left out: outside hosts' broadcasts on their way *out* of a port, i.e. the bridge flooding them
 * to every guest port. They say nothing about the loop, and on a host with 32 guests they are 32
 * copies of every broadcast from the LAN. Past MAX_FILTER_MACS addresses the BPF program would
 * grow too large (the kernel takes at most 4 096 instructions); then everything is captured.
 */
import { formatMac } from '../model/mac.js';

export const MAX_FILTER_MACS = 256;

/** The filter, or null when there are too many MACs to name (capture everything). */
export function diagnosisFilter(macs: Iterable<number>): string | null {
  const list = [...new Set([...macs].filter((m) => m >= 0 && m !== 0xfeffffffffff))].sort((a, b) => a - b);
  if (list.length > MAX_FILTER_MACS) return null;
  return ['(ether multicast and inbound)', ...list.map((m) => `ether host ${formatMac(m)}`)].join(' or ');
}
