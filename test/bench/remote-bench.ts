/**
 * `npm run bench:remote`: what the --ssh path costs on this side, without a network in the way.
 * The remote capture backend (src/capture/remote/remote-capture.ts) is run as for a host, but
 * its "ssh" is this machine's /bin/sh running the very capture script, and the host's "dumpcap"
 * a script that writes the benchmark capture to standard output: every byte goes through the
 * script's pipe, the ByteRing, the stream worker's reader, the batches and handOn into the
 * engine, as over ssh. Prints frames, wall seconds, CPU seconds of this process (every thread),
 * frames per second and per CPU-second.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { discoveryScript } from '../../src/capture/remote/scripts.js';
import { readSnapshot } from '../../src/capture/remote/snapshot.js';
import { RemoteCapture } from '../../src/capture/remote/remote-capture.js';
import type { SshTarget } from '../../src/capture/remote/ssh.js';
import { DecodedFrame, decodeFrame } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import { emptyTopology } from '../../src/model/topology.js';
import { generateBenchPcap } from './generate.js';

const frames = Number(process.argv[2] ?? 1_000_000);
const dir = join(process.cwd(), 'bench-data');
mkdirSync(dir, { recursive: true });
const file = join(dir, `remote-${frames}.pcap`);
if (!existsSync(file)) generateBenchPcap(file, frames);
const tool = join(dir, 'fake-dumpcap.sh');
writeFileSync(tool, `#!/bin/sh\nexec cat ${JSON.stringify(file)}\n`);
chmodSync(tool, 0o755);

const nonce = 'b3nch';
const d = spawnSync('/bin/sh', ['-s'], { input: discoveryScript(nonce, false) });
const snapshot = readSnapshot('bench', d.stdout, nonce, Date.now());
snapshot.facts.tools.dumpcap = tool;
// "ssh" to this machine: the same scripts, run by its own sh.
const ssh = {
  target: 'bench',
  batch: true,
  user: 'root',
  session: (script: string) => {
    const p = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin.write(script);
    return p;
  },
  masterSaid: () => '',
  ownedPaths: () => [],
  close: () => undefined,
} as unknown as SshTarget;

const analyzer = new Analyzer(emptyTopology());
const frame = new DecodedFrame();
let seen = 0;
let done: () => void = () => undefined;
const finished = new Promise<void>((r) => (done = r));
const cap = new RemoteCapture(
  { ssh, snapshot, sudo: false, nonce, interfaces: [snapshot.info.interfaces[0]!.name], kernel: false, bridges: [] },
  {
    onPacket: (rec) => {
      decodeFrame(rec, frame);
      analyzer.observe(rec, frame);
      seen++;
    },
    onEnded: () => done(),
  },
);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await cap.start();
analyzer.knowInterfaces(cap.registry.list);
cap.begin();
await finished;
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSec = (cpu.user + cpu.system) / 1e6;
cap.stop();
analyzer.finish();
process.stdout.write(
  `${seen} frames (of ${frames}) through the ssh capture path: ${wall.toFixed(2)} s wall, ${cpuSec.toFixed(2)} CPU-s in this process, ${(seen / wall / 1e6).toFixed(2)} M frames/s, ${(seen / cpuSec / 1e6).toFixed(2)} M frames per CPU-second; link ${(cap.linkStats().bytes / 2 ** 20).toFixed(0)} MiB\n`,
);
process.exit(0);
