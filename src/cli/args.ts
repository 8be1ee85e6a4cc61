/**
 * What every subcommand does with its arguments, done once: parse them (a parse error is a one-line
 * usage error naming the command), and read the options several commands share (--fail-on,
 * --window) with the same checks and words.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_OPTIONS } from '../engine/analyzer.js';
import { isSeverity, type Severity } from '../engine/severity.js';
import { UsageError } from './errors.js';

/** "analyze: " before a message; nothing for the view, which is `bondscope` itself. */
const prefix = (command: string): string => (command ? `${command}: ` : '');

/** `command` is '' for the view (`bondscope` with no subcommand). */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    // node's messages run over several lines ("… is ambiguous.\nDid you forget …"): one line, as every usage error is.
    throw new UsageError(`${prefix(command)}${(err as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ')}`);
  }
}

/** --fail-on LEVEL: undefined when not given. */
export function failOnOption(command: string, value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  if (!isSeverity(value)) throw new UsageError(`${prefix(command)}--fail-on takes error, warning or info, not '${value}'`);
  return value;
}

/** --window MS in nanoseconds (the engine's default when not given). */
export function windowOption(command: string, value: string | undefined): number {
  if (value === undefined) return DEFAULT_OPTIONS.windowNs;
  const ms = Number(value);
  if (!(ms > 0) || !Number.isFinite(ms)) throw new UsageError(`${prefix(command)}--window takes a positive number of milliseconds, not '${value}'`);
  return ms * 1e6;
}
