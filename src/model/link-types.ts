/** Names of the LINKTYPE_* values bondscope meets, as libpcap spells them (for messages and reports). */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'NULL', 9: 'PPP', 12: 'RAW', 101: 'RAW', 104: 'C_HDLC', 105: 'IEEE802_11', 108: 'LOOP', 127: 'IEEE802_11_RADIOTAP',
  113: 'LINUX_SLL', 276: 'LINUX_SLL2', 228: 'IPV4', 229: 'IPV6', 239: 'NFLOG', 220: 'USB_LINUX_MMAPPED',
};

export function linkTypeName(t: number): string {
  return LINK_TYPE_NAMES[t] ?? `LINKTYPE ${t}`;
}

