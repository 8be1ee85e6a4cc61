/**
 * Roles from interface names, as the hypervisors name them: the weakest source of a port's role
 * (after flags, a recorded topology and discovery). Shared by the engine (ports of a capture) and
 * discovery (ports of a live host), so it lives below both.
 */
import type { PortRole } from './topology.js';

const NAME_RULES: [RegExp, PortRole, string][] = [
  [/^p?bond\d+$/, 'bond', 'named like a bond (bondN; Xen renames it pbondN)'],
  [/^(xenbr|virbr|br)[\w.-]*$/, 'bridge', 'named like a bridge (xenbrN, brN, virbrN)'],
  [/^(vif\d+\.\d+|tap[\w.-]*|vnet\d+)$/, 'guest', "named like a guest's port (vifN.M, tapN, vnetN)"],
  [/^(p?eth\d+|en[osp][\w-]*|em\d+|p\d+p\d+)$/, 'slave', 'named like a NIC (ethN, enoN, ensN, enpXsY; Xen renames ethN to pethN)'],
  // The role names a sanitized evidence bundle gives its interfaces (`bondscope export --sanitize`).
  [/^slave\d+$/, 'slave', 'named slaveN, as a sanitized evidence bundle names a bond slave'],
  [/^guest\d+$/, 'guest', "named guestN, as a sanitized evidence bundle names a guest's port"],
];

export function roleFromName(name: string): { role: PortRole; reason: string } {
  for (const [re, role, reason] of NAME_RULES) if (re.test(name)) return { role, reason };
  return { role: 'unknown', reason: 'no flag, recorded topology or naming convention says what it is' };
}

