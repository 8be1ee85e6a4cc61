/**
 * One line per frame, like tshark's summary column: what a reader needs to recognise the frame.
 * Strings are made here, per printed frame, never in the decoder.
 */
import { formatIpv4, formatIpv6 } from '../decode/addr.js';
import {
  type DecodedFrame,
  PK_ARP,
  PK_IPV4,
  PK_IPV6,
  PK_LACP,
  PK_LLC,
  PK_STP,
  TRUNC_NONE,
} from '../decode/frame.js';
import { formatMac, readMac } from '../model/mac.js';
import { type Lacpdu, lacpStateFlags } from '../decode/lacp.js';
import {
  type Bpdu,
  BPDU_TYPE_RST,
  BPDU_TYPE_TCN,
  STP_FLAG_AGREEMENT,
  STP_FLAG_FORWARDING,
  STP_FLAG_LEARNING,
  STP_FLAG_PROPOSAL,
  STP_FLAG_TC,
  STP_FLAG_TCA,
  STP_VERSION_MSTP,
  STP_VERSION_RSTP,
  STP_VERSION_SPB,
  stpRole,
} from '../decode/stp.js';

const IP_PROTOCOLS: Record<number, string> = { 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 50: 'ESP', 58: 'ICMPv6', 89: 'OSPF', 112: 'VRRP', 132: 'SCTP' };

const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  128: 'echo request',
  129: 'echo reply',
  130: 'MLD query',
  131: 'MLD report',
  132: 'MLD done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'MLDv2 report',
};

const ICMP4_TYPES: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded' };

const WELL_KNOWN_UDP: Record<number, string> = { 53: 'DNS', 67: 'DHCP', 68: 'DHCP', 123: 'NTP', 137: 'NetBIOS-NS', 138: 'NetBIOS-DGM', 514: 'syslog', 546: 'DHCPv6', 547: 'DHCPv6', 5353: 'mDNS', 5355: 'LLMNR' };

const ETHERTYPES: Record<number, string> = { 0x88cc: 'LLDP', 0x88b5: 'local experimental', 0x88e5: 'MACsec', 0x8035: 'RARP', 0x88f7: 'PTP', 0x8100: '802.1Q', 0x88a8: '802.1ad', 0x8847: 'MPLS', 0x8863: 'PPPoE discovery', 0x8864: 'PPPoE session' };

function hex(n: number, width: number): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

export function etherTypeText(f: DecodedFrame): string | null {
  return f.etherType >= 0 ? hex(f.etherType, 4) : null;
}

function udpText(f: DecodedFrame): string {
  if (f.udpSrcPort < 0) return 'UDP';
  const name = WELL_KNOWN_UDP[f.udpDstPort] ?? WELL_KNOWN_UDP[f.udpSrcPort];
  return `UDP ${f.udpSrcPort} → ${f.udpDstPort}${name ? ` (${name})` : ''}`;
}

function ipv4Text(b: Uint8Array, f: DecodedFrame): string {
  if (f.ipVersion !== 4) return 'IPv4 (bad header)';
  let s = `IPv4 ${formatIpv4(b, f.ipSrcOff)} → ${formatIpv4(b, f.ipDstOff)} `;
  if (f.ipProto === 17) return s + udpText(f);
  s += IP_PROTOCOLS[f.ipProto] ?? `proto ${f.ipProto}`;
  if (f.ipProto === 1 && f.l4Off >= 0 && f.l3Off + f.l3Len > f.l4Off) {
    const t = b[f.l4Off]!;
    s += ` ${ICMP4_TYPES[t] ?? `type ${t}`}`;
  }
  return s;
}

function ipv6Text(b: Uint8Array, f: DecodedFrame): string {
  if (f.ipVersion !== 6) return 'IPv6 (bad header)';
  const s = `IPv6 ${formatIpv6(b, f.ipSrcOff)} → ${formatIpv6(b, f.ipDstOff)} `;
  if (f.ipProto === 17) return s + udpText(f);
  if (f.icmp6Type >= 0) {
    let t = `ICMPv6 ${ICMP6_TYPES[f.icmp6Type] ?? `type ${f.icmp6Type}`}`;
    if (f.ndTargetOff >= 0) t += f.icmp6Type === 135 ? ` who-has ${formatIpv6(b, f.ndTargetOff)}` : ` ${formatIpv6(b, f.ndTargetOff)}`;
    return s + t;
  }
  return s + (IP_PROTOCOLS[f.ipProto] ?? `proto ${f.ipProto}`);
}

function arpText(b: Uint8Array, f: DecodedFrame): string {
  if (f.arpSpaOff < 0) return f.arpOp >= 0 ? `ARP op ${f.arpOp}` : 'ARP';
  const spa = formatIpv4(b, f.arpSpaOff);
  const tpa = formatIpv4(b, f.arpTpaOff);
  if (f.arpOp === 1) return spa === tpa ? `ARP announcement ${spa}` : spa === '0.0.0.0' ? `ARP probe who-has ${tpa}` : `ARP who-has ${tpa} tell ${spa}`;
  if (f.arpOp === 2) return `ARP ${spa} is-at ${formatMac(readMac(b, f.arpShaOff))}`;
  return `ARP op ${f.arpOp} ${spa} → ${tpa}`;
}

/** A bridge id as tshark writes it: priority / system id extension / MAC. */
export function bridgeIdText(priority: number, ext: number, mac: number): string {
  return `${priority}/${ext}/${formatMac(mac)}`;
}

const STP_ROLES = ['', 'alternate/backup', 'root', 'designated'];

/** BPDU flags as tcpdump lists them, for RST/MST BPDUs all of them, for config BPDUs TC and TCA. */
function stpFlagsText(x: Bpdu): string {
  const out: string[] = [];
  const f = x.flags;
  if (f & STP_FLAG_TC) out.push('TC');
  if (f & STP_FLAG_TCA) out.push('TCA');
  if (x.type === BPDU_TYPE_RST) {
    if (f & STP_FLAG_PROPOSAL) out.push('proposal');
    const role = STP_ROLES[stpRole(f)];
    if (role) out.push(role);
    if (f & STP_FLAG_LEARNING) out.push('learning');
    if (f & STP_FLAG_FORWARDING) out.push('forwarding');
    if (f & STP_FLAG_AGREEMENT) out.push('agreement');
  }
  return out.length ? ` [${out.join(', ')}]` : '';
}

/** `RSTP root 32768/1/00:19:06:ea:b8:80 cost 0 port 0x8005 bridge 32768/1/00:19:06:ea:b8:80 [designated]`. */
export function bpduText(x: Bpdu, pvst: boolean): string {
  const name =
    x.version === STP_VERSION_SPB ? 'SPT' : x.version === STP_VERSION_MSTP ? 'MSTP' : x.version === STP_VERSION_RSTP ? 'RSTP' : 'STP';
  const via = pvst ? ` (PVST+${x.pvstVlan >= 0 ? ` vlan ${x.pvstVlan}` : ''})` : '';
  if (x.type === BPDU_TYPE_TCN) return `STP TCN${via}`;
  if (x.flags < 0) return x.type >= 0 ? `${name} BPDU type ${hex(x.type, 2)}${via}` : `STP BPDU${via}`;
  let s = `${name}${x.type === BPDU_TYPE_RST || x.version !== 0 ? '' : ' config'} root ${bridgeIdText(x.rootPriority, x.rootExt, x.rootMac)} cost ${x.rootCost} port ${hex(x.portId, 4)}`;
  s += ` bridge ${bridgeIdText(x.bridgePriority, x.bridgeExt, x.bridgeMac)}${stpFlagsText(x)}`;
  if (x.mstiAnnounced > 0) s += ` ${x.mstiAnnounced} MSTI${x.mstiAnnounced === 1 ? '' : 's'}`;
  return s + via;
}

function lacpSideText(priority: number, system: number, key: number, portPriority: number, port: number, state: number): string {
  return `${priority}/${formatMac(system)} key ${key} port ${portPriority}/${port} ${lacpStateFlags(state)}`;
}

/** `LACP actor 32768/00:13:c4:12:0f:00 key 13 port 32768/22 E****G*A partner … **DC*GS*` (state letters as tshark). */
export function lacpText(x: Lacpdu): string {
  let s = 'LACP';
  if (x.hasActor) s += ` actor ${lacpSideText(x.actorSystemPriority, x.actorSystem, x.actorKey, x.actorPortPriority, x.actorPort, x.actorState)}`;
  if (x.hasPartner) s += ` partner ${lacpSideText(x.partnerSystemPriority, x.partnerSystem, x.partnerKey, x.partnerPortPriority, x.partnerPort, x.partnerState)}`;
  if (x.version >= 0 && x.version !== 1) s += ` (version ${x.version})`;
  return s;
}

export function frameSummary(b: Uint8Array, f: DecodedFrame, linkType: number): string {
  if (!f.supported) return `link type ${linkType} (not decoded)`;
  let s: string;
  switch (f.payload) {
    case PK_ARP:
      s = arpText(b, f);
      break;
    case PK_IPV4:
      s = ipv4Text(b, f);
      break;
    case PK_IPV6:
      s = ipv6Text(b, f);
      break;
    case PK_STP:
      s = bpduText(f.bpdu, f.snapOui === 0x00000c);
      break;
    case PK_LACP:
      s = lacpText(f.lacp);
      break;
    case PK_LLC:
      s =
        f.snapOui >= 0
          ? `SNAP oui ${hex(f.snapOui, 6)} pid ${hex(f.snapPid, 4)}`
          : `LLC dsap ${hex(f.llcDsap, 2)} ssap ${hex(f.llcSsap, 2)}`;
      break;
    default:
      if (f.etherType >= 0) s = ETHERTYPES[f.etherType] ?? `EtherType ${hex(f.etherType, 4)}`;
      else if (f.llcLength >= 0) s = '802.3';
      else if (f.sllPacketType >= 0) s = 'cooked (no Ethernet payload)';
      else s = 'Ethernet';
  }
  if (f.truncated !== TRUNC_NONE) s += ' [truncated]';
  return s;
}
