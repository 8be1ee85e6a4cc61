/**
 * The parts of --ssh that need no host: the discovery script run by this machine's own /bin/sh
 * reads this host as discoverHost does; the framed answer is read safely (no path outside the
 * trees discovery reads is ever written, a file cannot fake a frame); the capture form chosen
 * from what a host has; every command a script runs is in docs/remote.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverHost } from '../../src/capture/host/discover.js';
import { namesLinkAddresses, planRemoteCapture } from '../../src/capture/remote/capture-plan.js';
import { captureScript, discoveryScript, HOST_COMMANDS, shellQuote, watchScript } from '../../src/capture/remote/scripts.js';
import { readSnapshot, splitFrames, type RemoteFacts } from '../../src/capture/remote/snapshot.js';
import { PROJECT_ROOT } from '../helpers/tools.js';

const json = (i: ReturnType<typeof discoverHost>): string =>
  JSON.stringify({ t: { ...i.topology, ports: [...i.topology.ports], localMacs: [...i.topology.localMacs], ifNames: [...i.topology.ifNames] }, ifs: i.interfaces, k: i.kernelRelease, l: [...i.lacpStates] });

describe('--ssh without a host', () => {
  it('the discovery script, run by /bin/sh here, reads this host exactly as discoverHost does', () => {
    const r = spawnSync('/bin/sh', ['-s'], { input: discoveryScript('t3st', false) });
    expect(r.status).toBe(0);
    const snap = readSnapshot('here', r.stdout, 't3st', Date.now());
    expect(json(snap.info)).toBe(json(discoverHost('/')));
    expect(snap.facts.uid).toBe(process.getuid!());
    expect(Math.abs(snap.facts.clockOffsetMs)).toBeLessThan(2000);
  });

  it('reads only frames of its own nonce, and writes nothing outside the trees discovery reads', () => {
    const n = 'abc';
    const out = Buffer.from(
      [
        '',
        `@@${n} d /sys/class/net/eth9`,
        `@@${n} f /sys/class/net/eth9/ifindex`,
        '9',
        // A file whose content looks like a frame of another nonce stays content.
        `@@${n} f /proc/sys/kernel/osrelease`,
        '6.1.0 @@other f /etc/passwd',
        `@@${n} f /sys/class/net/../../../etc/evil`,
        'x',
        `@@${n} f /etc/shadow`,
        'x',
        `@@${n} c ovs/../../escape`,
        'x',
        `@@${n} end`,
        '',
      ].join('\n'),
    );
    const frames = splitFrames(out, n);
    expect(frames.map((f) => f.kind)).toEqual(['d', 'f', 'f', 'f', 'f', 'c', 'end']);
    expect(frames[2]!.body.toString()).toBe('6.1.0 @@other f /etc/passwd');
    const snap = readSnapshot('h', out, n, Date.now());
    expect(snap.info.interfaces.map((i) => [i.name, i.ifindex])).toEqual([['eth9', 9]]);
    expect(snap.info.kernelRelease).toBe('6.1.0 @@other f /etc/passwd');
    expect(() => readSnapshot('h', Buffer.from(`\n@@${n} d /sys/class/net/x\n`), n, Date.now())).toThrow(/ended early/);
  });

  it('quotes every word for sh', () => {
    const word = `it's "$HOME" \`id\` ; rm -rf /`;
    expect(spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' }).stdout).toBe(word);
    expect(captureScript('n', true, ['/usr/sbin/tcpdump', '-i', 'eth0', 'not port 22'])).toContain(`$S '/usr/sbin/tcpdump' '-i' 'eth0' 'not port 22'`);
  });

  it('chooses dumpcap, else tcpdump -i any (libpcap 1.10, a filter without link-layer addresses), else a tcpdump per port; none without either', () => {
    const facts = (tools: Partial<RemoteFacts['tools']>, tcpdump: string | null, libpcap: string | null): RemoteFacts => ({
      uid: 0, user: 'root', kernel: 'Linux', clockOffsetMs: 0, uptime: 1, now: 1, path: '/usr/sbin:/usr/bin',
      ssh: { client: '192.0.2.1', clientPort: 5555, server: '192.0.2.2', serverPort: 22 },
      tools: { dumpcap: null, tcpdump: null, 'ovs-vsctl': null, 'ovs-appctl': null, bridge: null, grep: null, od: null, ...tools },
      tcpdumpVersion: tcpdump, libpcapVersion: libpcap, dumpcapVersion: null,
    });
    const ifaces = [{ name: 'eth0', ifindex: 2 }, { name: 'bond0', ifindex: 4 }].map((i) => ({ ...i, mac: -1, operstate: 'up', master: null, kind: 'other' as const, rxNoHandler: 0, rxDropped: 0, iflink: i.ifindex, lower: [] }));
    const plan = (f: RemoteFacts, filter?: string) => planRemoteCapture('hv', f, ifaces, ['eth0', 'bond0'], filter, undefined, false);
    const ssh = 'not (tcp and host 192.0.2.1 and host 192.0.2.2 and port 22)';
    expect(plan(facts({ dumpcap: '/usr/bin/dumpcap', tcpdump: '/usr/sbin/tcpdump' }, '4.99.3', '1.10.3'))).toMatchObject({ tool: 'dumpcap', streams: [{ argv: ['/usr/bin/dumpcap', '-q', '-f', ssh, '-i', 'eth0', '-i', 'bond0', '-w', '-'] }] });
    expect(plan(facts({ tcpdump: '/usr/sbin/tcpdump' }, '4.99.3', '1.10.3'), 'arp')).toMatchObject({ tool: 'tcpdump -i any', streams: [{ argv: ['/usr/sbin/tcpdump', '-U', '-i', 'any', '-y', 'LINUX_SLL2', '-w', '-', `(ifindex 2 or ifindex 4) and ((arp) and (${ssh}))`] }] });
    // XCP-ng 8's dom0: tcpdump 4.9.2 on libpcap 1.5.3.
    const xcp = plan(facts({ tcpdump: '/usr/sbin/tcpdump' }, '4.9.2', '1.5.3'));
    expect(xcp).toMatchObject({ tool: 'tcpdump per port', streams: [{ name: 'eth0' }, { name: 'bond0' }] });
    expect(plan(facts({ tcpdump: '/usr/sbin/tcpdump' }, '4.99.3', '1.10.3'), 'ether host 00:16:3e:00:00:01')).toMatchObject({ tool: 'tcpdump per port' });
    expect(plan(facts({}, null, null))).toMatch(/^hv has neither dumpcap nor tcpdump in the PATH of an ssh session \(\/usr\/sbin:\/usr\/bin\): install tcpdump there/);
    expect(namesLinkAddresses('ip multicast or ip6 multicast')).toBe(false);
    expect(namesLinkAddresses('(ether multicast and inbound) or ether host 00:16:3e:00:00:01')).toBe(true);
  });

  it('docs/remote.md lists every command the host scripts run', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'remote.md'), 'utf8');
    const scripts = discoveryScript('n', true) + watchScript('n', true, { bridges: ['b'], ovsBridges: ['o'], kernelLog: true, fdbEverySec: 0.5, grep: 'grep', ovsAppctl: 'ovs-appctl' }) + captureScript('n', true, ['tcpdump']);
    for (const c of HOST_COMMANDS) {
      expect(doc, c).toContain(`\`${c}\``);
      expect(scripts, c).toContain(c);
    }
  });
});
