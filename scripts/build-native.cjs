#!/usr/bin/env node
// npm ci / npm install: builds the capture ring binding (native/ring.cc) with node-gyp. A machine
// without a compiler or libpcap-dev still installs: live capture then falls back to `cap` and
// says why, and offline analysis never needs either. node-gyp is the one npm ships (npm puts it
// on the PATH of install scripts); NODE_GYP overrides it.
'use strict';
const { spawnSync } = require('node:child_process');
const gyp = process.env.NODE_GYP || 'node-gyp';
const r = spawnSync(gyp, ['rebuild'], { stdio: ['ignore', 'inherit', 'inherit'], shell: false });
if (r.status !== 0) {
  process.stderr.write(
    'bondscope: the capture ring binding did not build (it needs a C++ compiler and libpcap-dev: apt-get install g++ make libpcap-dev, then npm run install); live capture will use `cap` where it is built\n',
  );
}
process.exit(0);
