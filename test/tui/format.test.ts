import { describe, expect, it } from 'vitest';
import { clockTime, shortCount, sparkline, wrapText } from '../../src/tui/format.js';

describe('format', () => {
  it('wraps at word boundaries, indents continuation lines, cuts long words', () => {
    const lines = wrapText('the bridge learned the guest on bond0 instead of vif1.0\nnext', 20, '  ');
    expect(lines).toEqual(['the bridge learned', '  the guest on bond0', '  instead of vif1.0', 'next']);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(20);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('', 10)).toEqual(['']);
  });

  it('sparkline: blank for zero, full bar for the maximum, right-aligned in its width', () => {
    expect(sparkline([0, 1, 8], 5)).toBe('   ▂█');
    expect(sparkline([5, 5], 2)).toBe('██');
    expect(sparkline([], 3)).toBe('   ');
    expect(sparkline([1, 2, 3, 4], 2)).toBe('▆█');
  });

  it('short counts and UTC clock times', () => {
    expect([shortCount(950), shortCount(12345), shortCount(4.2e6), shortCount(-1)]).toEqual(['950', '12k', '4.2M', '?']);
    expect(clockTime(1_700_000_000.1234)).toBe('22:13:20.123');
    expect(clockTime(0)).toBe('--:--:--.---');
  });
});
