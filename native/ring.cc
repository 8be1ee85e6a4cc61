// bondscope's capture ring: one AF_PACKET socket with a TPACKET_V3 mmap ring for the whole host.
//
// What this file does and no more: open the socket (as root), compile the --filter with libpcap on a
// dead Ethernet handle and attach it (and replace it later: SO_ATTACH_FILTER on a bound socket swaps
// the program atomically, no frame lost or let through unfiltered), map the ring, bind to every interface (ifindex 0), set
// promiscuous membership, read PACKET_STATISTICS, and hand each retired block to JavaScript as a copy.
// The block's frames are parsed in TypeScript (src/capture/ring/block.ts), so the parser is tested
// without root on hand-built blocks.
//
// Why a copy of the block: the block goes back to the kernel at once (the ring never waits on
// JavaScript's garbage collector), and the copy is an ArrayBuffer JavaScript owns, which the
// capture worker transfers to the main thread without another copy. One memcpy of the used part
// of the block (blk_len bytes) per block, not per frame.
//
// Threads: open/promisc/stats/close run on the main thread; next() blocks in poll() on the capture
// worker thread. Rings live in a process-wide table (a native module is loaded once per process)
// and are held by shared_ptr, so close() during a next() frees the ring only when next() returns.
#include <napi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct Ring {
  int fd = -1;
  uint8_t* map = nullptr;
  size_t mapSize = 0;
  unsigned blockSize = 0;
  unsigned blockCount = 0;
  unsigned snaplen = 65535;
  unsigned next = 0;  // the block the reader waits on
  std::mutex reading;  // one reader at a time
  ~Ring() {
    if (map) munmap(map, mapSize);
    if (fd >= 0) close(fd);
  }
};

std::mutex tableLock;
std::map<int, std::shared_ptr<Ring>> table;
int nextHandle = 1;

std::shared_ptr<Ring> lookup(int handle) {
  std::lock_guard<std::mutex> g(tableLock);
  auto it = table.find(handle);
  return it == table.end() ? nullptr : it->second;
}

// An Error with the failing step, errno's words and code (EPERM, ENOPROTOOPT…) for the caller to explain.
Napi::Error sysError(Napi::Env env, const char* step, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(step) + ": " + strerror(err));
  const char* code = nullptr;
  switch (err) {
    case EPERM: code = "EPERM"; break;
    case EACCES: code = "EACCES"; break;
    case EINVAL: code = "EINVAL"; break;
    case ENOPROTOOPT: code = "ENOPROTOOPT"; break;
    case ENOMEM: code = "ENOMEM"; break;
    case ENODEV: code = "ENODEV"; break;
    case EAFNOSUPPORT: code = "EAFNOSUPPORT"; break;
    case EADDRINUSE: code = "EADDRINUSE"; break;
    default: break;
  }
  e.Set("code", Napi::String::New(env, code ? code : "E" + std::to_string(err)));
  e.Set("step", Napi::String::New(env, step));
  return e;
}

uint32_t optU32(const Napi::Object& o, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

// Ports whose inbound frames are kept whatever the filter says, at most (an 8-bit jump reaches past them).
const size_t MAX_KEEP = 250;

// Compiles `filter` (empty: every frame) for Ethernet with libpcap and attaches it to the socket,
// replacing any program before it; the program's return value is the snaplen. With `keep`, frames
// that arrive on one of those ifindexes (not PACKET_OUTGOING) are kept before the filter is asked:
// a program in front of libpcap's reads the kernel's ancillary pkttype and ifindex (the monitor
// keeps everything a guest sends on its own port, before it knows the guest's MAC).
void attachFilter(Napi::Env env, int fd, const std::string& filter, unsigned snaplen, const std::vector<uint32_t>& keep) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
  if (!dead) throw Napi::Error::New(env, "pcap_open_dead failed");
  struct bpf_program prog;
  if (pcap_compile(dead, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
    Napi::Error e = Napi::Error::New(env, std::string("--filter: ") + pcap_geterr(dead));
    e.Set("code", Napi::String::New(env, "EFILTER"));
    pcap_close(dead);
    throw e;
  }
  pcap_close(dead);
  std::vector<struct sock_filter> code;
  size_t n = keep.size() > MAX_KEEP ? 0 : keep.size();
  if (n > 0) {
    // [0] A = pkttype; [1] outgoing: on to the filter; [2] A = ifindex; [3, 3+n) one of them: keep;
    // [3+n] on to the filter; [4+n] keep; [5+n…] libpcap's program (its jumps are relative).
    const unsigned filterAt = 5 + n, keepAt = 4 + n;
    code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)));
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, (uint8_t)(filterAt - 2), 0));
    code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_IFINDEX)));
    for (size_t k = 0; k < n; k++) code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, keep[k], (uint8_t)(keepAt - (3 + k) - 1), 0));
    code.push_back(BPF_STMT(BPF_JMP | BPF_JA, 1));
    code.push_back(BPF_STMT(BPF_RET | BPF_K, snaplen));
  }
  for (u_int i = 0; i < prog.bf_len; i++) {
    const struct bpf_insn& x = prog.bf_insns[i];
    code.push_back(sock_filter{x.code, x.jt, x.jf, x.k});
  }
  pcap_freecode(&prog);
  struct sock_fprog fprog;
  fprog.len = (unsigned short)code.size();
  fprog.filter = code.data();
  int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
  if (rc < 0) throw sysError(env, "setsockopt(SO_ATTACH_FILTER)", errno);
}

std::vector<uint32_t> ifindexList(const Napi::Value& v) {
  std::vector<uint32_t> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value x = a.Get(i);
    if (x.IsNumber()) out.push_back(x.As<Napi::Number>().Uint32Value());
  }
  return out;
}

// open({blockSize, blockCount, frameSize, retireMs, snaplen, filter, keepInbound}) → handle
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "open(options)");
  Napi::Object o = info[0].As<Napi::Object>();
  auto ring = std::make_shared<Ring>();
  ring->blockSize = optU32(o, "blockSize", 1u << 20);
  ring->blockCount = optU32(o, "blockCount", 64);
  uint32_t frameSize = optU32(o, "frameSize", 2048);
  uint32_t retireMs = optU32(o, "retireMs", 4);
  uint32_t snaplen = optU32(o, "snaplen", 65535);
  std::string filter;
  Napi::Value fv = o.Get("filter");
  if (fv.IsString()) filter = fv.As<Napi::String>().Utf8Value();

  // Protocol 0: the socket receives nothing until bind() names ETH_P_ALL, so no frame reaches the
  // ring before the filter is attached (libpcap and gopacket do the same).
  ring->fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (ring->fd < 0) throw sysError(env, "socket(AF_PACKET)", errno);
  int version = TPACKET_V3;
  if (setsockopt(ring->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) throw sysError(env, "setsockopt(PACKET_VERSION, TPACKET_V3)", errno);
  // Room for the VLAN tag the NIC stripped: it is put back in front of the frame in place.
  unsigned reserve = 4;
  if (setsockopt(ring->fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve) < 0) throw sysError(env, "setsockopt(PACKET_RESERVE)", errno);

  attachFilter(env, ring->fd, filter, snaplen, ifindexList(o.Get("keepInbound")));
  ring->snaplen = snaplen;

  struct tpacket_req3 req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = ring->blockSize;
  req.tp_block_nr = ring->blockCount;
  req.tp_frame_size = frameSize;
  req.tp_frame_nr = (unsigned)(((uint64_t)ring->blockSize * ring->blockCount) / frameSize);
  req.tp_retire_blk_tov = retireMs;
  req.tp_sizeof_priv = 0;
  req.tp_feature_req_word = 0;
  if (setsockopt(ring->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) throw sysError(env, "setsockopt(PACKET_RX_RING)", errno);
  ring->mapSize = (size_t)ring->blockSize * ring->blockCount;
  void* m = mmap(nullptr, ring->mapSize, PROT_READ | PROT_WRITE, MAP_SHARED, ring->fd, 0);
  if (m == MAP_FAILED) throw sysError(env, "mmap(ring)", errno);
  ring->map = static_cast<uint8_t*>(m);

  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = 0;  // every interface
  if (bind(ring->fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) < 0) throw sysError(env, "bind(AF_PACKET, any)", errno);

  std::lock_guard<std::mutex> g(tableLock);
  int handle = nextHandle++;
  table[handle] = ring;
  return Napi::Number::New(env, handle);
}

std::shared_ptr<Ring> ringArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "ring handle expected");
  auto ring = lookup(info[0].As<Napi::Number>().Int32Value());
  if (!ring) throw Napi::Error::New(info.Env(), "ring closed");
  return ring;
}

// promisc(handle, ifindex, on): PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP with PACKET_MR_PROMISC.
// The kernel counts memberships per socket and drops them when the socket closes.
Napi::Value Promisc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ring = ringArg(info);
  struct packet_mreq mr;
  memset(&mr, 0, sizeof mr);
  mr.mr_ifindex = info[1].As<Napi::Number>().Int32Value();
  mr.mr_type = PACKET_MR_PROMISC;
  bool on = info.Length() < 3 || info[2].ToBoolean();
  if (setsockopt(ring->fd, SOL_PACKET, on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mr, sizeof mr) < 0) throw sysError(env, "setsockopt(PACKET_ADD_MEMBERSHIP)", errno);
  return env.Undefined();
}

// setFilter(handle, filter[, keepInbound]): the socket's filter replaced (same rules as open's).
Napi::Value SetFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ring = ringArg(info);
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, "setFilter(handle, filter)");
  attachFilter(env, ring->fd, info[1].As<Napi::String>().Utf8Value(), ring->snaplen, info.Length() > 2 ? ifindexList(info[2]) : std::vector<uint32_t>());
  return env.Undefined();
}

// stats(handle) → [packets, drops, freezes] since the last call: reading PACKET_STATISTICS resets it.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ring = ringArg(info);
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  memset(&st, 0, sizeof st);
  if (getsockopt(ring->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) throw sysError(env, "getsockopt(PACKET_STATISTICS)", errno);
  Napi::Array a = Napi::Array::New(env, 3);
  a.Set(0u, Napi::Number::New(env, st.tp_packets));
  a.Set(1u, Napi::Number::New(env, st.tp_drops));
  a.Set(2u, Napi::Number::New(env, st.tp_freeze_q_cnt));
  return a;
}

// next(handle, timeoutMs[, into]) → the next retired block's used bytes, or null when none retired
// within the timeout. Without `into`: a new ArrayBuffer holding them. With `into` (an ArrayBuffer
// at least a block long, handed back by JavaScript for reuse): copied there, and the byte count
// returned. The block is handed back to the kernel before returning.
Napi::Value Next(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ring = ringArg(info);
  int timeout = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : 100;
  std::lock_guard<std::mutex> g(ring->reading);
  auto* desc = reinterpret_cast<struct tpacket_block_desc*>(ring->map + (size_t)ring->next * ring->blockSize);
  volatile uint32_t* status = &desc->hdr.bh1.block_status;
  if (!(*status & TP_STATUS_USER)) {
    struct pollfd p;
    p.fd = ring->fd;
    p.events = POLLIN | POLLERR;
    p.revents = 0;
    int rc = poll(&p, 1, timeout);
    if (rc < 0 && errno != EINTR) throw sysError(env, "poll(ring)", errno);
    if (!(*status & TP_STATUS_USER)) return env.Null();
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  uint32_t used = desc->hdr.bh1.blk_len;
  // The kernel's own count of what it wrote; never past the block (a bad value is the parser's to name).
  if (used > ring->blockSize || used < sizeof(struct tpacket_block_desc)) used = ring->blockSize;
  Napi::Value result;
  if (info.Length() > 2 && info[2].IsArrayBuffer() && info[2].As<Napi::ArrayBuffer>().ByteLength() >= used) {
    memcpy(info[2].As<Napi::ArrayBuffer>().Data(), desc, used);
    result = Napi::Number::New(env, used);
  } else {
    Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, used);
    memcpy(out.Data(), desc, used);
    result = out;
  }
  std::atomic_thread_fence(std::memory_order_release);
  *status = TP_STATUS_KERNEL;
  ring->next = (ring->next + 1) % ring->blockCount;
  return result;
}

// close(handle): the socket and its ring go when the last reader lets go.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
  std::lock_guard<std::mutex> g(tableLock);
  table.erase(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("promisc", Napi::Function::New(env, Promisc));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("setFilter", Napi::Function::New(env, SetFilter));
  exports.Set("next", Napi::Function::New(env, Next));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("libpcapVersion", Napi::String::New(env, pcap_lib_version()));
  return exports;
}

}  // namespace

NODE_API_MODULE(bondscope_ring, Init)
