/** The subcommands, each in its own module (loaded only when run), with the line `bondscope --help` and the manual give each. */
/** A subcommand: takes its own arguments, returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  // One entry per subcommand, each in its own module.
  analyze: {
    summary: 'find bridge loops, own-address frames and wrong-port learning, with evidence',
    load: async () => (await import('./analyze.js')).runAnalyze,
  },
  check: {
    summary: "from the host's configuration alone: is its bonded bridge set up to loop",
    load: async () => (await import('./check.js')).runCheck,
  },
  live: {
    summary: 'capture on the host (root), or on one reached with --ssh: every port at once',
    load: async () => (await import('./live.js')).runLive,
  },
  monitor: {
    summary: 'watch the host for good: Prometheus metrics, findings as JSON lines, evidence kept',
    load: async () => (await import('./monitor.js')).runMonitor,
  },
  probe: {
    summary: 'send a marked broadcast out of each slave and see whether it loops back (root)',
    load: async () => (await import('./probe.js')).runProbe,
  },
  frames: {
    summary: 'print one line (or one JSON object) per frame',
    load: async () => (await import('./frames.js')).runFrames,
  },
  export: {
    summary: 'write an evidence bundle (trimmed pcapng with comments, report.md, findings.json)',
    load: async () => (await import('./export.js')).runExport,
  },
};
