/** Severity of a finding, and the threshold test `--fail-on` uses (analyze and check alike). */
export type Severity = 'error' | 'warning' | 'info';

const RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export function atOrAbove(s: Severity, threshold: Severity): boolean {
  return RANK[s] >= RANK[threshold];
}

export function isSeverity(s: string): s is Severity {
  return s === 'error' || s === 'warning' || s === 'info';
}

export function bySeverity(a: Severity, b: Severity): number {
  return RANK[b] - RANK[a];
}
