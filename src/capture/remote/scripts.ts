/**
 * What bondscope runs on a host it reaches over ssh, as POSIX sh scripts sent on the session's
 * standard input to `/bin/sh -s` (whatever the user's login shell is, only `exec /bin/sh -s` goes
 * through it). Each ends with `exit`: sh -s would otherwise wait on standard input for more. Every command here only reads: files under /sys/class/net and /proc, the kernel
 * log, the bridges' and Open vSwitch's learning tables, and the capture tool writing to its
 * standard output. Nothing is written on the host, nothing is left running: each script is one
 * compound command, read whole before it runs, and ends (with everything it started, `kill 0`)
 * when its standard input ends — bondscope closing it, or ssh going away.
 *
 * Output is framed by lines `@@NONCE KIND ARGS`, NONCE made for the run, so no file's contents
 * can be taken for a frame. docs/remote.md lists every command below; `HOST_COMMANDS` is that
 * list, and a test checks the two agree.
 */

/** Quotes one word for sh: single quotes, each ' as '\''. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command each session runs through the user's login shell. */
export const REMOTE_SHELL = 'exec /bin/sh -s';

/** Every program a script below may run on the host (besides sh's builtins), for the docs. */
export const HOST_COMMANDS = ['sh', 'cat', 'readlink', 'od', 'id', 'uname', 'date', 'grep', 'sleep', 'bridge', 'ovs-vsctl', 'ovs-appctl', 'tcpdump', 'dumpcap', 'sudo'] as const;

/** sysfs files read per interface, per bridge, per bridge port and per bond (as discoverHost reads them). */
const IFACE_FILES = ['ifindex', 'address', 'operstate', 'iflink', 'statistics/rx_nohandler', 'statistics/rx_dropped'];
const BRIDGE_FILES = ['stp_state', 'bridge_id', 'root_id', 'vlan_filtering'];
const BRPORT_FILES = ['state', 'port_no'];
const BOND_FILES = ['mode', 'slaves', 'active_slave', 'all_slaves_active'];

/** Open vSwitch's state as `check --ovs DIR` reads it (OVS_FILES), by the commands that print it. */
const OVS_COMMANDS: [string, string][] = [
  ['Bridge.json', 'ovs-vsctl --format=json list Bridge'],
  ['Port.json', 'ovs-vsctl --format=json list Port'],
  ['Interface.json', 'ovs-vsctl --format=json list Interface'],
  ['bond-show.txt', 'ovs-appctl bond/show'],
  ['lacp-show.txt', 'ovs-appctl lacp/show'],
];

/** The tools looked for (in the PATH of the session; with --sudo also in /usr/local/sbin, /usr/sbin, /sbin). */
export const TOOLS = ['dumpcap', 'tcpdump', 'ovs-vsctl', 'ovs-appctl', 'bridge', 'grep', 'od'] as const;

function prelude(nonce: string, sudo: boolean, to: 'out' | 'err'): string {
  return [
    `N=${nonce}`,
    // The privilege prefix for what needs root (capture, /dev/kmsg, Open vSwitch's sockets).
    `S=${sudo ? "'sudo -n'" : "''"}`,
    `m() { printf '\\n@@%s %s\\n' "$N" "$*"${to === 'err' ? ' >&2' : ''}; }`,
  ].join('\n');
}

/**
 * One round trip that prints what discovery reads, framed: `f PATH` then the file's bytes, `d PATH`
 * (a directory exists), `l PATH TARGET` (a symbolic link), `x PATH` then the file's bytes in hex
 * (od; binary: the bridges' forwarding database), `c NAME` then a command's output, `fact K V`.
 * The receiving side (snapshot.ts) rebuilds the tree `check --root DIR` reads.
 */
export function discoveryScript(nonce: string, sudo: boolean): string {
  const files = (dir: string, list: string[]): string => list.map((x) => `f "${dir}/${x}"`).join('; ');
  // The clock first: its line is the first to arrive, which places the host's clock (snapshot.ts).
  return `{
${prelude(nonce, sudo, 'out')}
f() { [ -f "$1" ] && [ -r "$1" ] && { m f "$1"; cat "$1" 2>/dev/null; }; }
l() { [ -L "$1" ] && m l "$1" "$(readlink "$1")"; }
# Tools are looked for in the session's PATH; with sudo also where sudo's secure_path has them.
P=$PATH; [ -n "$S" ] && P="$P:/usr/local/sbin:/usr/sbin:/sbin"
w() { IFS=:; for d in $P; do [ -x "$d/$1" ] && [ ! -d "$d/$1" ] && { IFS=' '; echo "$d/$1"; return 0; }; done; IFS=' '; return 1; }
m fact now "$(date +%s.%N)"
m fact uid "$(id -u)"
m fact user "$(id -un)"
m fact kernel "$(uname -sr)"
m fact uptime "$(cat /proc/uptime)"
m fact ssh "$SSH_CONNECTION"
m fact path "$P"
for t in ${TOOLS.join(' ')}; do m fact tool "$t" "$(w "$t")"; done
T=$(w tcpdump) && { m c tcpdump-version; "$T" --version 2>&1; }
T=$(w dumpcap) && { m c dumpcap-version; "$T" --version 2>&1; }
vf=0
for d in /sys/class/net/*; do
  [ -e "$d" ] || continue
  m d "$d"
  ${files('$d', IFACE_FILES)}
  l "$d/master"
  [ -e "$d/device" ] && m d "$d/device"
  for x in "$d"/lower_*; do l "$x"; done
  if [ -d "$d/bridge" ]; then
    m d "$d/bridge"
    ${files('$d/bridge', BRIDGE_FILES)}
    grep -qs 1 "$d/bridge/vlan_filtering" && vf=1
    m d "$d/brif"
    for p in "$d"/brif/*; do [ -e "$p" ] && { m d "$p"; ${files('$p', BRPORT_FILES)}; }; done
    [ -r "$d/brforward" ] && { m x "$d/brforward"; od -An -v -tx1 "$d/brforward"; }
  fi
  [ -d "$d/bonding" ] && { m d "$d/bonding"; ${files('$d/bonding', BOND_FILES)}; }
done
for b in /proc/net/bonding/*; do f "$b"; done
f /proc/sys/kernel/osrelease
[ "$vf" = 1 ] && B=$(w bridge) && { m c vlans; "$B" -j vlan show 2>/dev/null; }
if V=$(w ovs-vsctl) && A=$(w ovs-appctl) && $S "$V" --format=json list Bridge >/dev/null 2>&1; then
${OVS_COMMANDS.map(([file, cmd]) => `  m c ovs/${file}; $S ${cmd.replace(/^ovs-vsctl/, '"$V"').replace(/^ovs-appctl/, '"$A"')} 2>/dev/null`).join('\n')}
  for br in $($S "$V" list-br 2>/dev/null); do m c "ovs/fdb-show-$br.txt"; $S "$A" fdb/show "$br" 2>/dev/null; done
fi
m end
exit 0
}
`;
}

export interface HostWatch {
  /** Linux bridges whose forwarding database is read (sysfs brforward) every `fdbEverySec`. */
  bridges: string[];
  /** Open vSwitch bridges whose learning table (ovs-appctl fdb/show) is read every 2 s. */
  ovsBridges: string[];
  /** Follow the kernel log (/dev/kmsg) for own-address warnings and failovers. */
  kernelLog: boolean;
  fdbEverySec: number;
  /** Absolute paths found by discovery. */
  grep: string | null;
  ovsAppctl: string | null;
}

/**
 * The host's own account while capturing, on standard output, one framed line each:
 * `k RECORD` (a /dev/kmsg record about own-address frames, failovers or links), `nokmsg WHY`,
 * `fdb BRIDGE HEX` (16 entries of brforward per line) then `fdbend BRIDGE PORT=NO…`, `ovs BRIDGE
 * ROW` then `ovsend BRIDGE`. Ends (with everything it started) when its standard input ends.
 */
export function watchScript(nonce: string, sudo: boolean, w: HostWatch): string {
  const lines = [`{`, prelude(nonce, sudo, 'out').replace(`'\\n@@%s %s\\n'`, `'@@%s %s\\n'`)];
  if (w.bridges.length) {
    lines.push(`( while :; do`);
    lines.push(`  for br in ${w.bridges.map(shellQuote).join(' ')}; do d=/sys/class/net/$br; [ -r "$d/brforward" ] || continue`);
    lines.push(`    od -An -v -tx1 -w256 "$d/brforward" | while IFS= read -r h; do m fdb "$br" $h; done`);
    lines.push(`    ps=; for p in "$d"/brif/*; do [ -r "$p/port_no" ] && read -r no < "$p/port_no" && ps="$ps \${p##*/}=$no"; done; m fdbend "$br"$ps`);
    lines.push(`  done; sleep ${w.fdbEverySec}; done ) &`);
  }
  if (w.ovsBridges.length && w.ovsAppctl) {
    lines.push(`( while :; do for br in ${w.ovsBridges.map(shellQuote).join(' ')}; do $S ${shellQuote(w.ovsAppctl)} fdb/show "$br" 2>/dev/null | while IFS= read -r r; do m ovs "$br" "$r"; done; m ovsend "$br"; done; sleep 2; done ) &`);
  }
  if (w.kernelLog) {
    // Only the lines kernel.ts reads pass the host's grep (the earlier ones are skipped here by
    // time); cat's own failure (no CAP_SYSLOG under dmesg_restrict) comes through the same pipe.
    const g = w.grep ? ` | ${shellQuote(w.grep)} --line-buffered -E 'received packet|active one|link status|^@@'` : '';
    lines.push(`( { $S cat /dev/kmsg 2>/dev/null || echo "@@ nokmsg"; }${g} | while IFS= read -r r; do case "$r" in '@@ nokmsg') m nokmsg "$(id -un) cannot read /dev/kmsg";; *) m k "$r";; esac; done ) &`);
  }
  lines.push(`m watching`, `read -r _`, `kill 0`, `}`, ``);
  return lines.join('\n');
}

/**
 * One capture tool writing its capture to standard output (`argv`, quoted here), stopped with
 * SIGTERM when standard input ends; its messages and statistics on standard error, then
 * `@@NONCE exit STATUS`.
 */
export function captureScript(nonce: string, sudo: boolean, argv: string[]): string {
  return `{
${prelude(nonce, sudo, 'err')}
exec 3<&0
$S ${argv.map(shellQuote).join(' ')} </dev/null &
P=$!
( read -r _ <&3; kill -TERM $P 2>/dev/null ) &
W=$!
wait $P; st=$?
m exit "$st"
kill $W 2>/dev/null
exit 0
}
`;
}
