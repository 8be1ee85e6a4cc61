/** Shared by the export tests: run an export, read the bundle with tshark, analyse a capture. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeFrame, formatMac } from '../../src/decode/index.js';
import { Analyzer } from '../../src/engine/analyzer.js';
import { emptyTopology, type Topology } from '../../src/model/topology.js';
import { tshark } from '../helpers/tools.js';

export const TMP = mkdtempSync(join(tmpdir(), 'bondscope-export-'));
let dirNo = 0;
export function freshDir(tag: string): string {
  return join(TMP, `${tag}-${dirNo++}`);
}

/** (kind, MAC, VLAN) of every finding the engine reports on these files: what "the same findings" compares. */
export function findingKeys(specs: string[], topology: () => Topology = emptyTopology): string[] {
  const set = openCapture(specs);
  const a = new Analyzer(topology());
  const f = new DecodedFrame();
  while (set.next()) {
    decodeFrame(set.rec, f);
    a.observe(set.rec, f);
  }
  return a
    .finish()
    .map((x) => `${x.kind} ${x.mac >= 0 ? formatMac(x.mac) : '-'} ${x.vlan}`)
    .sort();
}

export function jsonFindingKeys(json: { findings: { kind: string; mac: string | null; vlan: number }[] }): string[] {
  return json.findings.map((x) => `${x.kind} ${x.mac ?? '-'} ${x.vlan}`).sort();
}

export interface TsharkFrame {
  no: number;
  time: string;
  iface: string;
  len: number;
  caplen: number;
  comments: string[];
}

/** Every frame of a file as tshark reads it; fails the caller's expectations through `stderr`. */
export function tsharkFrames(path: string): { frames: TsharkFrame[]; stderr: string; status: number | null } {
  const r = tshark(['-r', path, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=\u0001',
    '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.interface_name', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.comment']);
  const frames = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [no, time, iface, len, caplen, comment] = l.split('\t');
      return { no: Number(no), time: time!, iface: iface!, len: Number(len), caplen: Number(caplen), comments: comment ? comment.split('\u0001') : [] };
    });
  return { frames, stderr: r.stderr, status: r.status };
}
