/**
 * A running `loop` lab becomes `lacp` without touching the host, as when the switch team finally
 * configures the port-channel: the switch's two host-facing ports leave its bridge and become one
 * aggregate, exactly as `buildCommands` makes the `lacp` switch (`agg`, its `agg-drv` peer, tc
 * redirects: both links in through `agg`, what the switch sends to the host out of one link).
 * Kept apart from lab.ts/topology.ts while those change on other branches; once merged, the `lacp`
 * branch of buildCommands and this can share one list of commands.
 */
import { spawnSync } from 'node:child_process';
import { LabError, type Lab } from './lab.js';
import { namespaces } from './topology.js';

export function aggregateCommands(lab: Lab): string[] {
  const ns = namespaces(lab.params).sw;
  const S = `ip -n ${ns}`;
  const redirect = (from: string, to: string): string[] => [
    `ip netns exec ${ns} tc qdisc add dev ${from} ingress`,
    `ip netns exec ${ns} tc filter add dev ${from} parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ${to}`,
  ];
  return [
    `${S} link set sw-p0 nomaster`,
    `${S} link set sw-p1 nomaster`,
    `${S} link add name agg type veth peer name agg-drv`,
    `ip netns exec ${ns} sysctl -qw net.ipv6.conf.agg-drv.disable_ipv6=1`,
    `${S} link set agg master sw`,
    `${S} link set agg up`,
    `${S} link set agg-drv up`,
    ...redirect('agg-drv', 'sw-p0'),
    ...redirect('sw-p0', 'agg-drv'),
    ...redirect('sw-p1', 'agg-drv'),
  ];
}

/** The switch of a running `loop` lab aggregates its two ports in place: the lab is `lacp` from now on. */
export function aggregate(lab: Lab): Lab {
  if (lab.scenario !== 'loop') throw new LabError(`lab: only a loop lab can be aggregated in place, not ${lab.scenario}`);
  for (const c of aggregateCommands(lab)) {
    const r = spawnSync('/bin/sh', ['-c', c], { encoding: 'utf8' });
    if (r.status !== 0) throw new LabError(`lab: \`${c}\` failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  }
  return { ...lab, scenario: 'lacp' };
}
