/**
 * bondscope(1): the manual page, from each command's usage (the same data `--help` prints), the
 * command list, the exit codes. `npm run build` writes it to man/bondscope.1 (scripts/build-man.mjs);
 * package.json's "man" puts it where `man bondscope` finds it after a global install.
 */
import { HELP as analyze } from './analyze.js';
import { HELP as check } from './check.js';
import { COMMANDS } from './commands.js';
import { HELP as exportHelp } from './export.js';
import { HELP as frames } from './frames.js';
import { manPage, type CommandHelp } from './help.js';
import { HELP as live } from './live.js';
import { HELP as monitor } from './monitor.js';
import { HELP as probe } from './probe.js';
import { HELP as view } from './ui.js';
import { VERSION } from '../model/version.js';

/** Every command's usage, in the manual's order (the view first: `bondscope FILE...`). */
export const ALL_HELP: CommandHelp[] = [view, analyze, frames, exportHelp, check, live, monitor, probe];

export function manual(): string {
  return manPage({
    version: VERSION,
    name: 'packet-capture inspector for Linux hypervisor hosts whose bridge sits on a bonded NIC',
    description: [
      "bondscope reads packet captures from Linux hypervisor hosts (a Xen or XCP-ng dom0, a KVM or Proxmox VE host) whose bridge sits on a bonded NIC, and proves with the frames as evidence whether the host suffers the bonded-bridge loop: the switches flood a broadcast that left on one slave back into the other, the bond passes it up, the kernel logs 'received packet on bond0 with own address as source address', and the bridge learns guests' MACs on the bond, so unicast to them from outside is dropped.",
      'It reads pcap and pcapng files (compressed or not), captures live on the host with one kernel ring for every interface, or on a host reached over ssh with that host\'s own dumpcap or tcpdump, tells which ports see each MAC, finds looped broadcasts, own-address frames and wrong-port learning, and says which fix fits.',
    ],
    commands: ALL_HELP.map((h) => ({ ...h, summary: h.name ? COMMANDS[h.name]!.summary : 'the full-screen view of capture files, of this host live, or of a host reached over ssh' })),
    sections: [
      {
        title: 'Exit status',
        body: [{ items: [['0', 'ok'], ['1', 'an input was damaged; what could be read was used'], ['2', 'usage error, or an input that could not be read at all; a fault reaching a host over ssh'], ['3', 'a finding at or above --fail-on (probe: a loop was found)']] }],
      },
      {
        title: 'Environment',
        body: [{ items: [['BONDSCOPE_NO_RING=1', 'live capture does not use the capture ring (cap, the fallback, is used)']] }],
      },
    ],
    seeAlso: ['tcpdump(8)', 'dumpcap(1)', 'pcap-filter(7)', 'ssh(1)', 'ssh_config(5)', 'bridge(8)', 'ovs-vsctl(8)'],
  });
}
