#!/usr/bin/env node
// npm ci / npm install: builds the capture ring binding (native/ring.cc) with node-gyp. A machine
// without a compiler or libpcap-dev still installs: live capture then falls back to `cap` and
// says why, and offline analysis never needs either. node-gyp is the one npm ships (npm puts it
// on the PATH of install scripts); NODE_GYP overrides it.
//
// build/install-script.json records that this script ran and whether the build worked: without
// it, `bondscope live` knows npm never ran the install scripts (npm install -g runs them only
// when allowed) and says what to run.
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const gyp = process.env.NODE_GYP || 'node-gyp';
const r = spawnSync(gyp, ['rebuild'], { stdio: ['ignore', 'inherit', 'inherit'], shell: false });
const built = r.status === 0;
if (!built) {
  process.stderr.write(
    'bondscope: the capture ring binding did not build (it needs a C++ compiler and libpcap-dev: apt-get install g++ make libpcap-dev, then npm run install); live capture will use `cap` where it is built\n',
  );
}
try {
  const dir = join(__dirname, '..', 'build');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'install-script.json'), JSON.stringify({ ran: new Date().toISOString(), built }) + '\n');
} catch {
  // A read-only tree: live capture then says the binding is missing, as before.
}
process.exit(0);
