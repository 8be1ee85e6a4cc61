/**
 * What the kernel never says, said where a user would otherwise wait for a log line. The bridge
 * logs "received packet on <bond> with own address as source address" only for frames whose source
 * is one of the host's own MACs (br_fdb_update() finds a local entry); a guest's MAC coming back up
 * the bond is learned there silently (the FDB entry just moves, no message at any log level). So a
 * quiet kernel log proves nothing about the guests, and grepping dmesg for a guest's MAC finds nothing.
 *
 * Small and separate so every report can call it: `check`'s text, analyze's report beside
 * wrong-port-learning and own-address, the live view's timeline.
 */

/** Where the note is shown: its wording differs a little with what the reader is looking at. */
export type SilenceContext = 'check' | 'wrong-port-learning' | 'own-address' | 'no-kernel-warning';

export function kernelSilenceNote(context: SilenceContext, opts: { bond?: string | null; bridge?: string | null; guest?: string } = {}): string {
  const bond = opts.bond || 'the bond';
  const guest = opts.guest ?? "a guest's MAC";
  // The kernel's own words: "<bridge>: received packet on <bond> with own address as source address".
  const quoted = `${opts.bridge ? `${opts.bridge}: ` : ''}received packet on ${bond} with own address as source address`;
  switch (context) {
    case 'wrong-port-learning':
      return `The kernel logs nothing for this: learning ${guest} on ${bond} is silent (the FDB entry just moves; ${opts.bridge ? `\`bridge fdb show br ${opts.bridge}\` or /sys/class/net/${opts.bridge}/brforward` : "\`bridge fdb show\` or the bridge's brforward in /sys/class/net"} shows it, dmesg never does).`;
    case 'own-address':
      return `The kernel's "${quoted}" warning covers only the host's own MACs (bridge, bond, slaves); guests' MACs coming back the same way are learned on ${bond} without a word.`;
    case 'no-kernel-warning':
      return `No own-address warning in the kernel log does not mean no loop: the warning is printed only for the host's own MACs, and only when the host itself sends broadcasts; a guest's MAC learned on ${bond} is logged nowhere.`;
    case 'check':
    default:
      return `Do not wait for a kernel log line to confirm a loop: "${quoted}" is printed only for the host's own MACs, and a guest's MAC learned on ${bond} is logged nowhere. \`bondscope live\` (or \`bridge fdb show\` while guests are unreachable) shows it.`;
  }
}
