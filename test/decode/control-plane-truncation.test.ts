/**
 * Truncation at every step: every BPDU and LACPDU of tcpdump's captures cut at every length. The
 * decoder must never read past the cut (the bytes after it are poisoned), must say `truncated`
 * exactly when the cut falls inside what it decodes, and every field it still gives must be the
 * one the whole frame gives.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/index.js';
import { DecodedFrame, decodeEthernet, decodeFrame, PK_LACP, PK_STP, TRUNC_NONE } from '../../src/decode/index.js';
import { CORPUS } from '../helpers/tools.js';

const DIR = join(CORPUS, 'tcpdump-tests');
const FILES = ['LACP.pcap', '802.1D_spanning_tree.pcap', 'MSTP_Intra-Region_BPDUs.pcap', 'rpvstp-trunk-native-vid5.pcap', 'spb_bpduv4.pcap'];

/** The decoded fields as plain values: the BPDU's or LACPDU's scalars and its MSTI records. */
function fields(f: DecodedFrame): Record<string, unknown> {
  const x = f.payload === PK_STP ? f.bpdu : f.lacp;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  if (f.payload === PK_STP) {
    // Counts start at 0, not -1: compared on their own below.
    delete out.mstiAnnounced;
    delete out.mstiCount;
    const n = f.bpdu.mstiCount;
    out.msti = [f.bpdu.mstiFlags, f.bpdu.mstiId, f.bpdu.mstiRootMac, f.bpdu.mstiRootCost, f.bpdu.mstiRemainingHops].map((a) => Array.from(a.subarray(0, n)));
  }
  return out;
}

function frames(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const name of FILES) {
    const set = openCapture([join(DIR, name)]);
    const f = new DecodedFrame();
    while (set.next()) {
      decodeFrame(set.rec, f);
      if ((f.payload === PK_STP || f.payload === PK_LACP) && f.truncated === TRUNC_NONE) out.push({ name: `${name} frame ${set.rec.inputFrame}`, bytes: set.rec.buf.slice(set.rec.offset, set.rec.offset + set.rec.caplen) });
    }
  }
  return out;
}

describe('BPDU and LACPDU decoders cut at every length', () => {
  it('never read past the cut, flag truncation, and keep only fields the whole frame has', () => {
    const all = frames();
    expect(all.length).toBeGreaterThanOrEqual(14 + 20 + 10 + 18 + 25);
    let checked = 0;
    for (const { name, bytes } of all) {
      // decodeEthernet does not reset what decodeFrame resets: a fresh frame each time.
      const whole = new DecodedFrame();
      decodeEthernet(bytes, 0, bytes.length, whole);
      const want = fields(whole);
      // The poisoned buffer: the frame, then bytes that would change any field read from them.
      const buf = new Uint8Array(bytes.length * 2).fill(0xa5);
      buf.set(bytes);
      for (let end = 0; end <= bytes.length; end++) {
        const cut = new DecodedFrame();
        decodeEthernet(buf, 0, end, cut);
        checked++;
        if (cut.payload !== whole.payload) {
          // Cut before the headers that say what it is: it must say it was cut.
          expect(cut.truncated, `${name} cut at ${end}`).not.toBe(TRUNC_NONE);
          continue;
        }
        const got = fields(cut);
        // What the cut decode still has equals the whole frame's; what it lost is -1/false/empty.
        for (const [k, v] of Object.entries(got)) {
          if (k === 'msti') {
            const gm = v as number[][];
            const wm = want.msti as number[][];
            gm.forEach((col, i) => expect(col, `${name} cut at ${end}: msti`).toEqual(wm[i]!.slice(0, col.length)));
          } else if (v !== -1 && v !== false && k !== 'complete') expect(v, `${name} cut at ${end}: ${k}`).toBe(want[k]);
        }
        if (cut.payload === PK_STP && cut.bpdu.version3Length >= 0) {
          expect(cut.bpdu.mstiAnnounced, `${name} cut at ${end}: MSTIs announced`).toBe(whole.bpdu.mstiAnnounced);
          expect(cut.bpdu.mstiCount, `${name} cut at ${end}: MSTIs`).toBeLessThanOrEqual(whole.bpdu.mstiCount);
          if (cut.bpdu.mstiCount < whole.bpdu.mstiCount) expect(cut.truncated, `${name} cut at ${end}: MSTIs lost`).not.toBe(TRUNC_NONE);
        }
        const lost = Object.entries(want).some(([k, v]) => k !== 'msti' && k !== 'complete' && got[k] !== v);
        if (lost) expect(cut.truncated, `${name} cut at ${end} lost fields but did not say truncated`).not.toBe(TRUNC_NONE);
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });
});
