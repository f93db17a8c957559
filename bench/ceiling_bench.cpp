// The ceiling (issue 9): what this machine's kernel allows per core for the UDP half of the
// packet path, so the SFU's numbers can be set against it. Loopback only (127.0.0.1),
// 1200-byte datagrams (a full video packet), CPU time of one thread
// (CLOCK_THREAD_CPUTIME_ID) per packet:
//   receive: one thread blasts with sendmmsg (32 per call, connected socket); the receiving
//            thread waits with poll() and drains with recvmmsg(MSG_DONTWAIT), 32 per call
//            into 2 KiB buffers with source addresses, as rtc::UdpSocket::drain does.
//            Reported: its CPU per packet, packets/s received (wall), batch fill, loss.
//   send:    one thread sends for a fixed time with send (connected), sendto (unconnected:
//            the SFU's one socket for every peer), sendmmsg (32 per call) and UDP GSO
//            (one sendmsg of 32 × 1200 bytes with a UDP_SEGMENT control message); a second
//            thread drains the receiving socket as above. Reported: the sender's CPU per
//            packet. GSO that the kernel refuses is reported as unsupported, not a failure.
// On loopback the sending thread also pays for the receiving side's IP/UDP processing
// (the softirq runs in its context, and GSO's segmentation happens there at the receiving
// socket), so the send costs are upper bounds for a real NIC.
//
// SRTP per packet is bench/srtp_bench.cpp (scripts/bench-ceiling runs both).
//
// Run: build-bench/bench/conclave_bench_ceiling [--seconds 1.5]   (prints one JSON object)
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kPacket = 1200;  // bytes per datagram
constexpr std::size_t kBatch = 32;     // datagrams per recvmmsg/sendmmsg call and per GSO send
constexpr std::size_t kBufferSize = 2048;
constexpr int kSocketBuffer = 4 * 1024 * 1024;  // as rtc::UdpSocket asks for

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "conclave_bench_ceiling: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// A UDP socket bound to 127.0.0.1 on a port of its own, closed when destroyed.
class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) fail("socket");
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer) != 0 ||
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer) != 0) {
      fail("setsockopt SO_RCVBUF/SO_SNDBUF");
    }
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) fail("bind");
    socklen_t len = sizeof address_;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &len) != 0) {
      fail("getsockname");
    }
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  const sockaddr_in& address() const { return address_; }
  void connect_to(const sockaddr_in& to) {
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fail("connect");
  }

 private:
  int fd_;
  sockaddr_in address_{};
};

// What a receiving thread did.
struct Received {
  std::uint64_t packets = 0;
  std::uint64_t calls = 0;  // recvmmsg calls that returned datagrams
  double cpu = 0;           // seconds of its own CPU
};

// recvmmsg into 32 buffers of 2 KiB with source addresses, as rtc::UdpSocket::drain does.
class Drainer {
 public:
  explicit Drainer(int fd) : fd_(fd), buffers_(kBatch) {
    for (std::size_t i = 0; i < kBatch; ++i) iovs_[i] = {buffers_[i].data(), kBufferSize};
  }
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

  // Reads until the queue is empty or a batch comes back short.
  void drain_ready(Received& r) {
    for (;;) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        msgs_[i].msg_hdr = {};
        msgs_[i].msg_hdr.msg_iov = &iovs_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
        msgs_[i].msg_hdr.msg_name = &from_[i];
        msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
      const int n = ::recvmmsg(fd_, msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;  // EAGAIN: drained
      r.packets += static_cast<std::uint64_t>(n);
      ++r.calls;
      if (static_cast<std::size_t>(n) < kBatch) return;
    }
  }

 private:
  int fd_;
  std::vector<std::array<std::uint8_t, kBufferSize>> buffers_;
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iovs_{};
  std::array<sockaddr_storage, kBatch> from_{};
};

// Waits with poll() and drains, until `stop` is set and the socket has then been quiet for
// 100 ms.
Received drain(const Socket& socket, const std::atomic<bool>& stop) {
  Drainer drainer(socket.fd());
  Received r;
  const double cpu0 = thread_cpu_seconds();
  for (;;) {
    pollfd p{socket.fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) fail("poll");
    if (ready == 0 && stop.load(std::memory_order_acquire)) break;
    if (ready > 0) drainer.drain_ready(r);
  }
  r.cpu = thread_cpu_seconds() - cpu0;
  return r;
}

// What a sending thread did.
struct Sent {
  std::uint64_t packets = 0;
  double cpu = 0;   // seconds of its own CPU
  double wall = 0;  // seconds
  int error = 0;    // errno of the first failed call, 0 if none
};

// 32 distinct 1200-byte datagrams, as an SFU has its packets in buffers of their own.
struct Payloads {
  Payloads() : buffers(kBatch) {
    for (std::size_t b = 0; b < kBatch; ++b) {
      for (std::size_t i = 0; i < kPacket; ++i) buffers[b][i] = static_cast<std::uint8_t>(b + i);
      iovs[b] = {buffers[b].data(), kPacket};
    }
  }
  std::vector<std::array<std::uint8_t, kPacket>> buffers;
  std::array<iovec, kBatch> iovs{};
};

enum class Method { kSend, kSendto, kSendmmsg, kGso };

// Sends 32 datagrams a call of send_batch() with one method, to `to`, or, when `to` is null,
// to the address the socket is connected to.
class Sender {
 public:
  Sender(const Socket& socket, const sockaddr_in* to) : fd_(socket.fd()), to_(to) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      msgs_[i].msg_hdr.msg_iov = &payloads_.iovs[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      if (to != nullptr) {
        msgs_[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(to);
        msgs_[i].msg_hdr.msg_namelen = sizeof *to;
      }
    }
    // GSO: one datagram of 32 × 1200 bytes gathered from the 32 buffers, which the kernel
    // cuts into 1200-byte datagrams (UDP_SEGMENT, Linux 4.18).
    if (to != nullptr) {
      gso_.msg_name = const_cast<sockaddr_in*>(to);
      gso_.msg_namelen = sizeof *to;
    }
    gso_.msg_iov = payloads_.iovs.data();
    gso_.msg_iovlen = kBatch;
    gso_.msg_control = control_.data();
    gso_.msg_controllen = control_.size();
    cmsghdr* cm = CMSG_FIRSTHDR(&gso_);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const std::uint16_t segment = kPacket;
    std::memcpy(CMSG_DATA(cm), &segment, sizeof segment);
  }
  // The headers point into this object.
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Datagrams sent, or -errno of a failed call.
  long send_batch(Method method) {
    switch (method) {
      case Method::kSend:
      case Method::kSendto:
        for (std::size_t i = 0; i < kBatch; ++i) {
          const void* data = payloads_.buffers[i].data();
          const auto n = to_ == nullptr
                             ? ::send(fd_, data, kPacket, 0)
                             : ::sendto(fd_, data, kPacket, 0,
                                        reinterpret_cast<const sockaddr*>(to_), sizeof *to_);
          if (n < 0) return i > 0 ? static_cast<long>(i) : -errno;
        }
        return kBatch;
      case Method::kSendmmsg: {
        const int n = ::sendmmsg(fd_, msgs_.data(), kBatch, 0);
        return n < 0 ? -errno : n;
      }
      case Method::kGso:
        return ::sendmsg(fd_, &gso_, 0) < 0 ? -errno : static_cast<long>(kBatch);
    }
    return -EINVAL;
  }

 private:
  int fd_;
  const sockaddr_in* to_;
  Payloads payloads_;
  std::array<mmsghdr, kBatch> msgs_{};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(std::uint16_t))> control_{};
  msghdr gso_{};
};

// Sends for `seconds`; the clock is read once per 32 datagrams. A failed call ends the run
// (Sent::error).
Sent send_for(Method method, const Socket& socket, const sockaddr_in* to, double seconds) {
  Sender sender(socket, to);
  Sent s;
  const double cpu0 = thread_cpu_seconds();
  const double start = wall_seconds();
  double now = start;
  while (now - start < seconds) {
    const long n = sender.send_batch(method);
    if (n < 0) {
      s.error = static_cast<int>(-n);
      break;
    }
    s.packets += static_cast<std::uint64_t>(n);
    now = wall_seconds();
  }
  s.wall = wall_seconds() - start;
  s.cpu = thread_cpu_seconds() - cpu0;
  return s;
}

struct Run {
  Sent sent;
  Received received;
};

// A sending thread on a fresh pair of sockets, and a thread draining the receiving socket
// (or, with drained = false, nobody: the queue fills and the kernel drops what follows).
// kSend uses a connected socket, the others an unconnected one, as the SFU's is.
Run run_pair(Method method, bool connected, bool drained, double seconds) {
  Socket receiver;
  Socket sender;
  if (connected) sender.connect_to(receiver.address());
  const sockaddr_in* to = connected ? nullptr : &receiver.address();
  std::atomic<bool> stop{false};
  Run run;
  std::thread drainer;
  if (drained) drainer = std::thread([&] { run.received = drain(receiver, stop); });
  std::thread blaster([&] { run.sent = send_for(method, sender, to, seconds); });
  blaster.join();
  stop.store(true, std::memory_order_release);
  if (drained) drainer.join();
  return run;
}

// Receive in full batches: one thread fills the queue with 512 datagrams (sendmmsg), then
// drains it; only the draining is timed (Received::cpu), the filling is not.
Run receive_full_batches(double seconds) {
  constexpr std::size_t kFill = 512;  // ~1.5 MB of queue, within the 4 MiB asked for
  Socket receiver;
  Socket sender;
  sender.connect_to(receiver.address());
  Sender blaster(sender, nullptr);
  Drainer drainer(receiver.fd());
  Run run;
  const double start = wall_seconds();
  while (wall_seconds() - start < seconds) {
    for (std::size_t sent = 0; sent < kFill;) {
      const long n = blaster.send_batch(Method::kSendmmsg);
      if (n < 0) {
        errno = static_cast<int>(-n);
        fail("sendmmsg");
      }
      sent += static_cast<std::size_t>(n);
      run.sent.packets += static_cast<std::uint64_t>(n);
    }
    const double cpu0 = thread_cpu_seconds();
    pollfd p{receiver.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) drainer.drain_ready(run.received);
    run.received.cpu += thread_cpu_seconds() - cpu0;
  }
  run.sent.wall = wall_seconds() - start;
  return run;
}

void print_run(const char* name, const Run& run, bool last) {
  std::printf(
      "    \"%s\": {\"sent\": %llu, \"sender_cpu_s\": %.6f, \"wall_s\": %.6f, \"error\": \"%s\", "
      "\"received\": %llu, \"receiver_cpu_s\": %.6f, \"receive_calls\": %llu}%s\n",
      name, static_cast<unsigned long long>(run.sent.packets), run.sent.cpu, run.sent.wall,
      run.sent.error != 0 ? std::strerror(run.sent.error) : "",
      static_cast<unsigned long long>(run.received.packets), run.received.cpu,
      static_cast<unsigned long long>(run.received.calls), last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S]   (default 1.5 per measurement)\n", argv[0]);
      return 2;
    }
  }
  if (seconds <= 0) seconds = 1.5;

  struct Case {
    const char* name;
    Method method;
    bool connected;
    bool drained;
  };
  // "recvmmsg": the receiving side while one thread blasts with sendmmsg on a connected
  // socket, its cheapest way to send; the rest: the sending side.
  const Case cases[] = {
      {"recvmmsg", Method::kSendmmsg, true, true},
      {"send", Method::kSend, true, true},
      {"sendto", Method::kSendto, false, true},
      {"sendmmsg", Method::kSendmmsg, false, true},
      {"gso", Method::kGso, false, true},
      {"send_undrained", Method::kSend, true, false},
      {"sendto_undrained", Method::kSendto, false, false},
      {"sendmmsg_undrained", Method::kSendmmsg, false, false},
      {"gso_undrained", Method::kGso, false, false},
  };
  std::printf("{\n  \"packet_bytes\": %zu,\n  \"batch\": %zu,\n  \"seconds\": %.3f,\n", kPacket,
              kBatch, seconds);
  std::printf("  \"runs\": {\n");
  print_run("recvmmsg_full_batches", receive_full_batches(seconds), false);
  for (const auto& c : cases) {
    print_run(c.name, run_pair(c.method, c.connected, c.drained, seconds),
              &c == &cases[std::size(cases) - 1]);
    std::fflush(stdout);
  }
  std::printf("  }\n}\n");
  return 0;
}
