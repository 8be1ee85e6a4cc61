/** Exit codes shared by every command. */
export const EXIT_OK = 0;
/** An input was damaged but what could be read was used. */
export const EXIT_DAMAGED = 1;
/** Usage error, or an input that could not be read at all. */
export const EXIT_USAGE = 2;
/** `--fail-on`: a finding at or above the threshold exists. */
export const EXIT_FINDINGS = 3;
/**
 * `analyze`: the captures cannot tell whether the host loops (the verdict says what would tell). A
 * script that reads 0 as "no loop" must not read it from a capture that cannot show one.
 */
export const EXIT_CANNOT_TELL = 4;

/** A mistake on the command line: printed as one line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
