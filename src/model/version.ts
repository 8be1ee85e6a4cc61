import { readFileSync } from 'node:fs';
import { executableAsset } from './package.js';

/** The package version, read once from package.json beside dist/ (or the one the single executable carries). */
export const VERSION: string = (() => {
  try {
    const carried = executableAsset('package.json');
    const text = carried ? new TextDecoder().decode(carried) : readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    const pkg = JSON.parse(text) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
