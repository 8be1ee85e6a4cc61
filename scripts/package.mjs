#!/usr/bin/env node
// npm run package: bondscope as one self-contained executable, bondscope-linux-<arch>, with
// Node's single executable applications (the node binary this runs on, the app injected into it
// with postject, as https://nodejs.org/api/single-executable-applications.html describes).
//
// What goes in, and why this way:
//  - the app, bundled by esbuild from the compiled dist/ into one CommonJS file (a SEA's main
//    script must be one; import.meta.url, which CommonJS lacks, becomes the executable's path);
//  - the worker threads' code, each bundled the same way and carried as an asset: a worker needs
//    a script on disk or eval code, and src/model/package.ts startWorker() runs it as eval code;
//  - the capture ring binding (build/Release/bondscope_ring.node), an asset written to a private
//    directory at first use: a native module must be a file to be loaded (process.dlopen);
//  - oui-data's registry and package.json, read through node:sea's getAsset.
//  Not cap (the fallback capture and the probe's sender): it needs libpcap handles per interface
//  in worker processes, which the executable does not carry; the executable says so in one line.
//
// Two dependencies use top-level await, which a CommonJS bundle cannot hold; each is given a
// synchronous form here, and the build stops if their code no longer has the shape patched:
//  - yoga-layout (Ink's layout engine, WebAssembly): instantiated synchronously from its own
//    embedded binary through Emscripten's instantiateWasm hook, instead of awaiting loadYoga();
//  - Ink's reconciler awaits React devtools and its package.json only when DEV=true: those
//    branches are left out (the executable has no devtools).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const esbuild = require('esbuild');
const { inject } = require('postject');

const arch = process.arch === 'x64' ? 'x64' : process.arch;
// --out FILE: somewhere else than the project's root (the tests build into a directory of their own).
const outAt = process.argv.indexOf('--out');
const out = outAt > 0 ? process.argv[outAt + 1] : join(root, `bondscope-linux-${arch}`);
const work = join(outAt > 0 ? dirname(out) : join(root, 'build'), 'sea');
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function fail(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

if (process.platform !== 'linux') fail('builds the Linux executable only');
const binding = join(root, 'build', 'Release', 'bondscope_ring.node');
if (!existsSync(binding)) fail('the capture ring binding is not built (apt-get install g++ make libpcap-dev, then npm run install): the executable carries it');
if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) fail('dist/ is not built: npm run build');

/** Replaces `from` by `to` in `text`, which must contain it: the patch fails loudly when the dependency changes. */
function patch(text, from, to, what) {
  if (!text.includes(from)) fail(`${what}: the code to patch is not there any more (${JSON.stringify(from.slice(0, 60))}); see scripts/package.mjs`);
  return text.split(from).join(to);
}

const syncDependencies = {
  name: 'bondscope-no-top-level-await',
  setup(build) {
    build.onLoad({ filter: /yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/ }, (args) => {
      const binaries = join(dirname(args.path), '..', 'binaries', 'yoga-wasm-base64-esm.js');
      const m = /"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/.exec(readFileSync(binaries, 'utf8'));
      if (!m) fail('yoga-layout: its embedded WebAssembly binary is not where it was; see scripts/package.mjs');
      return {
        loader: 'js',
        resolveDir: dirname(args.path),
        contents: `import loadYoga from '../binaries/yoga-wasm-base64-esm.js';
import wrapAssembly from './wrapAssembly.js';
// Instantiated synchronously (bondscope's executable: no top-level await in CommonJS).
const binary = Buffer.from(${JSON.stringify(m[1])}, 'base64');
const module = {
  instantiateWasm(imports, receive) {
    const compiled = new WebAssembly.Module(binary);
    const instance = new WebAssembly.Instance(compiled, imports);
    receive(instance, compiled);
    return instance.exports;
  },
};
loadYoga(module);
const Yoga = wrapAssembly(module);
export default Yoga;
export * from './generated/YGEnums.js';
`,
      };
    });
    build.onLoad({ filter: /ink[\\/]build[\\/]reconciler\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      text = patch(text, "await import('./devtools.js');", '/* React devtools are not in the executable */', 'ink reconciler');
      text = patch(text, '? await loadPackageJson()', '? { name: undefined, version: undefined }', 'ink reconciler');
      return { loader: 'js', contents: text };
    });
  },
};

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** One CommonJS file from a compiled entry: import.meta.url as the file's URL, React in production. */
async function bundle(entry, file) {
  await esbuild.build({
    entryPoints: [join(root, entry)],
    outfile: join(work, file),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'import.meta.url': '__bondscope_meta_url', 'process.env.NODE_ENV': '"production"' },
    banner: { js: 'var __bondscope_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    // cap is not carried (see above); react-devtools-core only with DEV=true.
    external: ['cap', 'react-devtools-core'],
    plugins: [syncDependencies],
  });
}

await bundle('dist/src/cli/main.js', 'main.cjs');
const workers = { 'ring-worker.js': 'dist/src/capture/ring/ring-worker.js', 'decompress-worker.js': 'dist/src/capture/decompress-worker.js', 'stream-worker.js': 'dist/src/capture/remote/stream-worker.js' };
for (const [name, entry] of Object.entries(workers)) await bundle(entry, name);

const assets = {
  'bondscope_ring.node': binding,
  'oui-data.json': require.resolve('oui-data'),
  'package.json': join(root, 'package.json'),
  ...Object.fromEntries(Object.keys(workers).map((n) => [n, join(work, n)])),
};
const config = { main: join(work, 'main.cjs'), output: join(work, 'sea-prep.blob'), disableExperimentalSEAWarning: true, useCodeCache: true, assets };
writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

// The node binary this build runs on, without its debug information (postject keeps the ELF notes it needs).
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
try {
  execFileSync('strip', ['--strip-debug', out], { stdio: 'ignore' });
} catch {
  // No binutils: the executable carries node's debug information, and works the same.
}
await inject(out, 'NODE_SEA_BLOB', readFileSync(config.output), { sentinelFuse: SENTINEL });
const mib = (statSync(out).size / 2 ** 20).toFixed(0);
process.stdout.write(`package: ${out} (${mib} MiB; node ${process.version}, ${arch})\n`);
