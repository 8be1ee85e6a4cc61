import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executableAsset, packageRoot } from './package.js';

/** The package version, read once from package.json beside dist/ (or the one the single executable carries). */
export const VERSION: string = (() => {
  try {
    const carried = executableAsset('package.json');
    const text = carried ? new TextDecoder().decode(carried) : readFileSync(join(packageRoot(), 'package.json'), 'utf8');
    const pkg = JSON.parse(text) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
