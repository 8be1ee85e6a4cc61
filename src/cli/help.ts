/**
 * Each command's usage as data (usage.ts), rendered two ways from the same source: the `--help`
 * text and the manual page bondscope(1) (`npm run build` writes man/bondscope.1; a global install
 * puts it where `man bondscope` finds it). Neither is written by hand, so they never disagree.
 */

/** A paragraph, or a list of terms and what each is. */
export type Block = string | { items: [term: string, text: string][] };

/** One option: `-i, --interface IF`, and what it does. */
export type OptionHelp = [flags: string, text: string];

/** Options under a heading ("options", "live options"). */
export interface OptionGroup {
  title: string;
  options: OptionHelp[];
}

export interface CommandHelp {
  /** The subcommand ('' for the view: `bondscope FILE...`). */
  name: string;
  /** What follows `bondscope` on each usage line. */
  synopsis: string[];
  description: Block[];
  groups: OptionGroup[];
  /** Paragraphs (or lists) after the options. */
  after?: Block[];
}

const WIDTH = 100;

/** Words of `text` in lines of at most `width`, the first `first` characters in, the rest `rest` in. */
function wrap(text: string, width: number, first: string, rest: string): string[] {
  const out: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      out.push(line);
      line = rest + word;
    } else line += (empty ? '' : ' ') + word;
    empty = false;
  }
  out.push(line);
  return out;
}

/** Two columns: `term` padded to `col`, the text wrapped beside it (on its own line when the term is longer). */
function columns(term: string, text: string, indent: string, col: number): string[] {
  const head = `${indent}${term}`;
  const pad = ' '.repeat(col);
  if (head.length + 1 > col) return [head, ...wrap(text, WIDTH, pad, pad)];
  return wrap(text, WIDTH, head.padEnd(col), pad);
}

/** The `--help` text. */
export function helpText(h: CommandHelp): string {
  const lines = h.synopsis.map((s, i) => `${i === 0 ? 'usage: ' : '       '}bondscope ${s}`);
  const block = (b: Block): void => {
    lines.push('');
    if (typeof b === 'string') lines.push(...wrap(b, WIDTH, '', ''));
    else {
      const col = Math.min(24, Math.max(...b.items.map(([t]) => t.length)) + 4);
      for (const [t, x] of b.items) lines.push(...columns(t, x, '  ', col));
    }
  };
  for (const b of h.description) block(b);
  for (const g of h.groups) {
    lines.push('', `${g.title}:`);
    const col = Math.min(27, Math.max(...g.options.map(([f]) => f.length)) + 5);
    for (const [f, x] of g.options) lines.push(...columns(f, x, '  ', col));
  }
  for (const b of h.after ?? []) block(b);
  return lines.join('\n') + '\n';
}

/** Text as roff reads it: backslashes escaped, a line never starting with a control character. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/`([^`]+)`/g, '\\fB$1\\fR')
    // Anything past ASCII by its Unicode name (groff without preconv reads bytes).
    .replace(/[^\x00-\x7f]/g, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** Option flags in roff: the words in bold, their arguments (upper case) in italics. */
function flags(f: string): string {
  return f
    .split(/(\s+|,\s*|\[|\]|=|\.\.\.)/)
    .map((w) => (/^[A-Z][A-Z0-9_:-]*$/.test(w) ? `\\fI${roff(w)}\\fR` : /^-/.test(w) ? `\\fB${roff(w)}\\fR` : roff(w)))
    .join('');
}

export interface ManPage {
  version: string;
  /** bondscope's one-line description. */
  name: string;
  description: string[];
  /** Each command with its one-line summary (commands.ts). */
  commands: (CommandHelp & { summary: string })[];
  /** Further sections: title and paragraphs. */
  sections: { title: string; body: Block[] }[];
  seeAlso: string[];
}

/** bondscope(1), the manual page, from the same usage as `--help`. */
export function manPage(m: ManPage): string {
  const out = [
    `.TH BONDSCOPE 1 "" "bondscope ${m.version}" "User Commands"`,
    '.SH NAME',
    `bondscope \\- ${roff(m.name)}`,
    '.SH SYNOPSIS',
    ...m.commands.flatMap((c) => c.synopsis.flatMap((s) => ['.B bondscope', roff(s), '.br'])),
    '.SH DESCRIPTION',
    ...m.description.flatMap((p) => ['.PP', roff(p)]),
  ];
  const blocks = (bs: Block[]): string[] =>
    bs.flatMap((b) => (typeof b === 'string' ? ['.PP', roff(b)] : b.items.flatMap(([t, x]) => ['.TP', `.B ${roff(t)}`, roff(x)])));
  out.push('.SH COMMANDS');
  for (const c of m.commands) {
    out.push(`.SS "${roff(c.name ? `bondscope ${c.name}` : 'bondscope FILE... (the view)')}"`, roff(c.summary) + '.', ...blocks(c.description));
    for (const g of c.groups) {
      out.push('.PP', `${roff(g.title[0]!.toUpperCase() + g.title.slice(1))}:`);
      for (const [f, x] of g.options) out.push('.TP', flags(f), roff(x));
    }
    out.push(...blocks(c.after ?? []));
  }
  for (const s of m.sections) out.push(`.SH ${roff(s.title.toUpperCase())}`, ...blocks(s.body));
  out.push('.SH SEE ALSO', m.seeAlso.map((x) => `.BR ${x.replace(/\((\d)\)$/, ' ($1)')}`).join(',\n'));
  return out.join('\n') + '\n';
}
