#!/usr/bin/env node
// npm run build / prepare: writes man/bondscope.1 from the compiled usage (src/cli/manual.ts),
// the same data `bondscope COMMAND --help` prints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { manual } = await import(join(root, 'dist', 'src', 'cli', 'manual.js'));
mkdirSync(join(root, 'man'), { recursive: true });
writeFileSync(join(root, 'man', 'bondscope.1'), manual());
