/**
 * Vendor names from the IEEE registry as the oui-data package ships it: known assignments (MA-L,
 * MA-S), locally administered MACs said as such, group addresses without a vendor, and the in-place
 * search agreeing with a full parse of the package's JSON.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { registeredOrganisation, shortOrganisation, vendorOf } from '../../src/report/vendor.js';

describe('vendor names from the IEEE registry', () => {
  it.each([
    [0x00163e000001, 'Xensource'], // Xen guests' prefix, registered by XenSource
    [0x002590aa0001, 'Super Micro Computer'],
    [0x00000c123456, 'Cisco Systems'],
    [0x001906eab880, 'Cisco Systems'],
    [0xbc2411000001, 'Proxmox Server Solutions'], // Proxmox VE 8's guest MACs
  ])('%s', (mac, vendor) => {
    expect(vendorOf(mac)).toBe(vendor);
  });

  it('QEMU/KVM’s 52:54:00 is locally administered: no IEEE registration, the convention named as one', () => {
    expect(registeredOrganisation(0x525400123456)).toBeNull();
    expect(vendorOf(0x525400123456)).toBe('QEMU/KVM (locally administered)');
    expect(vendorOf(0xfeffffffffff)).toBe('Xen vif (locally administered)');
    expect(vendorOf(0x02aabbccddee)).toBe('locally administered');
  });

  it('group addresses have no vendor', () => {
    expect(vendorOf(0xffffffffffff)).toBeNull();
    expect(vendorOf(0x01005e000001)).toBeNull();
    expect(vendorOf(0x333300000001)).toBeNull();
  });

  it('an MA-S block under the IEEE’s own 70:B3:D5 is found by its 36-bit prefix, not the OUI', () => {
    const json = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('oui-data'), 'utf8')) as Record<string, string>;
    const maS = Object.keys(json).filter((k) => k.length === 9 && k.startsWith('70B3D5'));
    expect(maS.length).toBeGreaterThan(100);
    for (const k of maS.slice(0, 20)) expect(registeredOrganisation(parseInt(k, 16) * 0x1000 + 0xabc)).toBe(json[k]!.split('\n')[0]!.trim());
    expect(registeredOrganisation(0x70b3d5000000)).toBe(json['70B3D5']?.split('\n')[0]!.trim() ?? null);
  });

  it('the in-place search agrees with a full parse on every 97th entry of every block size', () => {
    const json = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('oui-data'), 'utf8')) as Record<string, string>;
    const keys = Object.keys(json);
    let checked = 0;
    for (let i = 0; i < keys.length; i += 97) {
      const k = keys[i]!;
      const mac = parseInt(k, 16) * 16 ** (12 - k.length);
      // The longest registered prefix wins: an MA-L hit may be shadowed by an MA-M/MA-S block inside it.
      const longest = [9, 7, 6].map((d) => json[mac.toString(16).toUpperCase().padStart(12, '0').slice(0, d)]).find((v) => v !== undefined)!;
      expect(registeredOrganisation(mac), k).toBe(longest.split('\n')[0]!.trim());
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('legal forms are dropped for the report, the name kept', () => {
    expect(shortOrganisation('Super Micro Computer, Inc.')).toBe('Super Micro Computer');
    expect(shortOrganisation('Huawei Technologies Co.,Ltd')).toBe('Huawei Technologies');
    expect(shortOrganisation('Intel Corporate')).toBe('Intel Corporate');
  });
});
