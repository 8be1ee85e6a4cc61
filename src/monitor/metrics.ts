/**
 * The monitor's Prometheus metrics (prom-client, text exposition format). Everything here is a
 * number the monitor already keeps: counters grow when the monitor reads the engine (every poll),
 * gauges are set when it reads the kernel or the host's configuration. A scrape only formats them:
 * no walk over MACs or frames happens at scrape time, so it costs the same with 10 000 MACs as with 10.
 *
 * Labels are bounded by the host's own ports (bridge, bond, slave, port, interface) and by the fixed
 * finding kinds and severities. Never a MAC: a loop or a MAC flood would create one series per
 * address seen, without bound, in every Prometheus that scrapes the host. The MACs are in the events
 * and the evidence bundles. A port that goes away (a guest destroyed) takes its series with it
 * (`forgetPort`): a host whose guests come and go all day exports the ports it has, not every port
 * it ever had.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { VERSION } from '../model/version.js';

/** Labels whose values are the host's own ports. */
const PORT_LABELS = ['interface', 'port', 'slave', 'bond', 'bridge'];

export class MonitorMetrics {
  readonly registry = new Registry();
  /** Frames handed to the monitor per interface (across capture restarts). */
  readonly captured = new Map<string, number>();
  /** Frames the capture dropped per interface ('all': the host's one capture ring). */
  readonly dropped = new Map<string, number>();

  readonly capturedTotal: Counter<'interface'>;
  readonly droppedTotal: Counter<'interface'>;
  readonly loopedFrames: Counter<'bridge' | 'bond' | 'slave'>;
  readonly ownAddressFrames: Counter<'bridge' | 'port'>;
  readonly wrongPortLearning: Counter<'bridge' | 'bond'>;
  readonly wrongPortMacs: Gauge<'bridge' | 'bond'>;
  readonly blackholedUnicast: Counter<'bridge' | 'bond'>;
  readonly macFlaps: Counter<'bridge'>;
  readonly kernelOwnAddress: Counter<'bridge' | 'port'>;
  readonly bondFailovers: Counter<'bond'>;
  readonly findingsActive: Gauge<'kind' | 'severity'>;
  readonly findingsOpened: Counter<'kind' | 'severity'>;
  readonly stpPortState: Gauge<'bridge' | 'port'>;
  readonly stpPortBlocked: Gauge<'bridge' | 'port'>;
  readonly stpHostIsRoot: Gauge<'bridge'>;
  readonly lacpState: Gauge<'bond' | 'slave' | 'side'>;
  readonly lacpDistributing: Gauge<'bond' | 'slave' | 'side'>;
  readonly bondLoopProne: Gauge<'bridge' | 'bond'>;
  readonly bondInfo: Gauge<'bond' | 'mode'>;
  readonly macsTracked: Gauge;
  readonly lastFrame: Gauge;
  readonly evidenceBundles: Counter;
  readonly evidenceSkipped: Counter<'reason'>;
  readonly evidenceBytes: Gauge;
  readonly captureRestarts: Counter;

  /** Active findings by `kind|severity` (the lifecycle keeps it). */
  activeBy: ReadonlyMap<string, number> = new Map();

  constructor() {
    const r = this.registry;
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = [] as L[], collect?: (c: Counter<L>) => void): Counter<L> =>
      new Counter<L>({ name, help, labelNames, registers: [r], ...(collect ? { collect(this: Counter<L>) { collect(this); } } : {}) });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = [] as L[], collect?: (g: Gauge<L>) => void): Gauge<L> =>
      new Gauge<L>({ name, help, labelNames, registers: [r], ...(collect ? { collect(this: Gauge<L>) { collect(this); } } : {}) });
    const fromMap = (map: Map<string, number>) => (c: Counter<'interface'>) => {
      // Set from the totals at scrape time: interfaces that went away stop being exported.
      c.reset();
      for (const [name, n] of map) c.inc({ interface: name }, n);
    };

    new Gauge({ name: 'bondscope_build_info', help: 'Always 1: the version of bondscope running.', labelNames: ['version'], registers: [r] }).set({ version: VERSION }, 1);
    this.capturedTotal = counter('bondscope_capture_frames_total', 'Frames captured per interface (after the capture filter).', ['interface'], fromMap(this.captured));
    this.droppedTotal = counter('bondscope_capture_dropped_frames_total', 'Frames lost by the capture: the monitor fell behind (interface="all": the one capture ring of the whole host).', ['interface'], fromMap(this.dropped));
    this.loopedFrames = counter('bondscope_looped_frames_total', 'Broadcasts and multicasts the host sent that came back in on the bond, by the slave they came back on.', ['bridge', 'bond', 'slave']);
    this.ownAddressFrames = counter('bondscope_own_address_frames_total', "Frames with one of the host's own MACs as source arriving on the uplink.", ['bridge', 'port']);
    this.wrongPortLearning = counter('bondscope_wrong_port_learning_total', "Times a guest's own frame came back up the bond, so the bridge learned the guest behind the bond.", ['bridge', 'bond']);
    this.wrongPortMacs = gauge('bondscope_wrong_port_macs', "Guests' MACs the kernel's forwarding database has on the bond right now (they are unreachable from outside).", ['bridge', 'bond']);
    this.blackholedUnicast = counter('bondscope_blackholed_unicast_frames_total', 'Unicast for a guest that arrived on the bond while the bridge had the guest learned there, and never reached it.', ['bridge', 'bond']);
    this.macFlaps = counter('bondscope_mac_flaps_total', 'Moves of a MAC between bridge ports after its first move (a first move can be a migration; the next ones are flapping).', ['bridge']);
    this.kernelOwnAddress = counter('bondscope_kernel_own_address_lines_total', 'Kernel log lines "received packet on PORT with own address as source address".', ['bridge', 'port']);
    this.bondFailovers = counter('bondscope_bond_failovers_total', 'Bonding failovers the kernel logged (a new active slave).', ['bond']);
    this.findingsActive = gauge('bondscope_findings_active', 'Findings open now (evidence arrived within --quiet-after, or the configuration check reports them).', ['kind', 'severity'], (g) => {
      g.reset();
      for (const [k, n] of this.activeBy) {
        const [kind, severity] = k.split('|') as [string, string];
        g.set({ kind, severity }, n);
      }
    });
    this.findingsOpened = counter('bondscope_findings_opened_total', 'Findings opened.', ['kind', 'severity']);
    this.stpPortState = gauge('bondscope_stp_port_state', 'Spanning-tree state of each bridge port as sysfs has it: 0 disabled, 1 listening, 2 learning, 3 forwarding, 4 blocking.', ['bridge', 'port']);
    this.stpPortBlocked = gauge('bondscope_stp_port_blocked', 'Whether spanning tree blocks this bridge port (1) or not (0).', ['bridge', 'port']);
    this.stpHostIsRoot = gauge('bondscope_stp_host_is_root', "Whether the host's bridge is the spanning-tree root (1), with STP on.", ['bridge']);
    this.lacpState = gauge('bondscope_lacp_port_state', '802.3ad state byte per slave, as /proc/net/bonding has it (bits: 1 activity, 2 short timeout, 4 aggregation, 8 sync, 16 collecting, 32 distributing, 64 defaulted, 128 expired).', ['bond', 'slave', 'side']);
    this.lacpDistributing = gauge('bondscope_lacp_distributing', 'Whether the actor or partner of an 802.3ad slave is in sync, collecting and distributing (1) or not (0).', ['bond', 'slave', 'side']);
    this.bondLoopProne = gauge('bondscope_bond_loop_prone', 'Whether `bondscope check` finds this bond under a bridge set up so that it loops (1) or not (0).', ['bridge', 'bond']);
    this.bondInfo = gauge('bondscope_bond_info', 'Always 1: each bond and its bonding mode.', ['bond', 'mode']);
    this.macsTracked = gauge('bondscope_macs_tracked', 'MACs (per VLAN) the engine tracks in the current epoch.');
    this.lastFrame = gauge('bondscope_last_frame_timestamp_seconds', 'When the latest frame was captured (seconds since the epoch).');
    this.evidenceBundles = counter('bondscope_evidence_bundles_total', 'Evidence bundles written.');
    this.evidenceSkipped = counter('bondscope_evidence_skipped_total', 'Evidence bundles not written, by reason (rate-limit, error).', ['reason']);
    this.evidenceBytes = gauge('bondscope_evidence_bytes', 'Bytes the evidence directory holds (bundles over the cap are removed oldest first).');
    this.captureRestarts = counter('bondscope_capture_restarts_total', 'Times capture was restarted because the host changed (interfaces, guests).');
    // The process's own cost, under the standard names (prom-client's default collectors add
    // dozens of nodejs_* series, some of which promtool's lint rejects).
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [], (g) => g.set(process.memoryUsage.rss()));
    counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [], (c) => {
      const u = process.cpuUsage();
      c.reset();
      c.inc((u.user + u.system) / 1e6);
    });
    gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.').set(Math.round(Date.now() / 1000 - process.uptime()));
    // V8's heap and the memory outside it (buffers, typed arrays), under prom-client's names: with
    // the resident size they say where the memory is when it grows.
    gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', [], (g) => g.set(process.memoryUsage().heapTotal));
    gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', [], (g) => g.set(process.memoryUsage().heapUsed));
    gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes (array buffers included).', [], (g) => g.set(process.memoryUsage().external));
  }

  /** Series of a port that went away, removed from every metric with a port in its labels. */
  async forgetPort(name: string): Promise<void> {
    this.captured.delete(name);
    this.dropped.delete(name);
    for (const m of this.registry.getMetricsAsArray() as unknown as (Counter<string> | Gauge<string>)[]) {
      const got = await m.get();
      for (const v of got.values) {
        const labels = v.labels as Record<string, string | number>;
        if (PORT_LABELS.some((l) => labels[l] === name)) m.remove(labels);
      }
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
