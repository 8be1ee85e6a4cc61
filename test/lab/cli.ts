/**
 * npm run lab -- up SCENARIO [--prefix P] | traffic | capture DIR | down [--prefix P]
 * The scenario of a running lab is remembered in /run/bondscope-lab-<prefix>.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { capture, down, LabError, labUnavailable, traffic, up, type Lab } from './lab.js';
import { SCENARIOS, scenarioParams, type ScenarioName } from './topology.js';

const USAGE = `usage: npm run lab -- <command>
  up SCENARIO      build a scenario (${SCENARIOS.join(', ')})
  traffic          send the scenario's traffic and print the kernel's ground truth
  capture DIR      record the traffic into DIR (pcapng, pcaps, SLL2, links.json, truth.json)
  down             remove every namespace of the lab
options: --prefix P  namespace prefix (default bsl)
`;

function stateFile(prefix: string): string {
  return `/run/bondscope-lab-${prefix}`;
}

function current(prefix: string): Lab {
  try {
    return JSON.parse(readFileSync(stateFile(prefix), 'utf8')) as Lab;
  } catch {
    throw new LabError(`lab: no lab with prefix '${prefix}' is up: run \`npm run lab -- up SCENARIO\` first`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { prefix: { type: 'string', default: 'bsl' }, help: { type: 'boolean', short: 'h' } } });
  const [cmd, arg] = positionals;
  const prefix = values.prefix!;
  if (values.help || !cmd) {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === 'down') {
    const gone = down(prefix);
    rmSync(stateFile(prefix), { force: true });
    process.stdout.write(gone.length ? `lab: removed ${gone.join(', ')}\n` : 'lab: nothing to remove\n');
    return 0;
  }
  const why = labUnavailable();
  if (why) throw new LabError(`lab: cannot run here: ${why}`);
  if (cmd === 'up') {
    if (!SCENARIOS.includes(arg as ScenarioName)) throw new LabError(`lab: unknown scenario '${arg ?? ''}' (one of ${SCENARIOS.join(', ')})`);
    const t0 = Date.now();
    const lab = up(arg as ScenarioName, scenarioParams(arg as ScenarioName, prefix));
    writeFileSync(stateFile(prefix), JSON.stringify(lab));
    process.stdout.write(`lab: ${arg} is up in ${Date.now() - t0} ms (namespaces ${prefix}-host, ${prefix}-sw, ${prefix}-client, ${prefix}-g1, ${prefix}-g2; bridge ${lab.params.bridge})\n`);
    return 0;
  }
  if (cmd === 'traffic') {
    process.stdout.write(JSON.stringify(await traffic(current(prefix)), null, 1) + '\n');
    return 0;
  }
  if (cmd === 'capture') {
    if (!arg) throw new LabError('lab: capture needs a directory');
    const truth = await capture(current(prefix), arg);
    process.stdout.write(`lab: recorded into ${arg}: guests after broadcast ${JSON.stringify(truth.guestPortsAfterBroadcast)}, ${truth.ownAddressWarnings.length} own-address warnings, client→guest loss ${truth.pingLoss.clientToGuestAfterBroadcast}%\n`);
    return 0;
  }
  throw new LabError(`lab: unknown command '${cmd}'\n${USAGE}`);
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof LabError ? err.message : String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = err instanceof LabError ? 2 : 70;
  },
);
