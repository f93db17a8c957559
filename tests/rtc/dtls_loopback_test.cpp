// Integration tests of rtc/dtls (with rtc/srtp): DtlsTransports on real UDP sockets on
// 127.0.0.1, driven by a poll() loop and the transports' own timeout API, as a worker's
// event loop would drive them. Loss, bad fingerprints, garbage and a plain OpenSSL peer.
#include "rtc/dtls.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace conclave::rtc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

// One certificate per role for the whole binary: generating is the slow part.
const DtlsCertificate& certificate_a() {
  static const DtlsCertificate certificate = DtlsCertificate::generate();
  return certificate;
}
const DtlsCertificate& certificate_b() {
  static const DtlsCertificate certificate = DtlsCertificate::generate();
  return certificate;
}

DtlsOptions test_options() {
  DtlsOptions options;
  options.handshake_timeout = 10s;  // bounds every test; the loss tests finish far sooner
  return options;
}

// A UDP socket bound to 127.0.0.1 on a free port.
class UdpSocket {
 public:
  UdpSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    address_.sin_family = AF_INET;
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address_.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&address_), sizeof address_), 0);
    socklen_t size = sizeof address_;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &size), 0);
  }
  ~UdpSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  const sockaddr_in& address() const { return address_; }

  void send_to(std::span<const std::uint8_t> datagram, const sockaddr_in& to) const {
    const ssize_t n = ::sendto(fd_, datagram.data(), datagram.size(), 0,
                               reinterpret_cast<const sockaddr*>(&to), sizeof to);
    EXPECT_EQ(n, static_cast<ssize_t>(datagram.size()));
  }
  // One datagram, or nullopt when none is waiting.
  std::optional<Bytes> receive() const {
    std::array<std::uint8_t, 65536> buffer;
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    return Bytes(buffer.begin(), buffer.begin() + n);
  }

 private:
  int fd_ = -1;
  sockaddr_in address_{};
};

// Something with a socket that the loop below feeds.
class LoopMember {
 public:
  virtual ~LoopMember() = default;
  virtual int fd() const = 0;
  virtual void on_readable() = 0;
  virtual std::optional<std::chrono::milliseconds> next_timeout() = 0;
  virtual void on_timeout() = 0;
};

// A DtlsTransport with its socket: what a WebRTC transport does, minus ICE.
class Peer final : public DtlsTransport::Listener, public LoopMember {
 public:
  Peer(const DtlsCertificate& certificate, DtlsRole role, const DtlsFingerprint& remote,
       const DtlsOptions& options = test_options())
      : dtls_(certificate, role, remote, *this, options) {}

  void send_to(const sockaddr_in& remote) { remote_ = remote; }
  DtlsTransport& dtls() { return dtls_; }
  const UdpSocket& socket() const { return socket_; }

  // Loss control: return true to drop an outgoing datagram.
  std::function<bool(std::span<const std::uint8_t>)> drop;
  // Runs inside on_dtls_connected.
  std::function<void()> on_connected;

  int sends = 0;
  int dropped = 0;
  std::size_t largest_datagram = 0;
  std::vector<Bytes> sent;  // everything sent, for replay and garbage tests
  int connected_events = 0;
  int failed_events = 0;
  int closed_events = 0;
  std::optional<SrtpProfile> profile;
  SrtpKeyPair keys;
  std::optional<DtlsTransport::Failure> failure;
  std::vector<DtlsTransport::ReceiveStatus> statuses;

  int fd() const override { return socket_.fd(); }
  void on_readable() override {
    while (auto datagram = socket_.receive()) statuses.push_back(dtls_.receive(*datagram));
  }
  std::optional<std::chrono::milliseconds> next_timeout() override { return dtls_.next_timeout(); }
  void on_timeout() override { dtls_.on_timeout(); }

 private:
  void on_dtls_send(std::span<const std::uint8_t> datagram) override {
    ++sends;
    largest_datagram = std::max(largest_datagram, datagram.size());
    sent.emplace_back(datagram.begin(), datagram.end());
    if (drop && drop(datagram)) {
      ++dropped;
      return;
    }
    socket_.send_to(datagram, remote_);
  }
  void on_dtls_connected(SrtpProfile negotiated, const SrtpKeyPair& pair) override {
    ++connected_events;
    profile = negotiated;
    keys = pair;
    if (on_connected) on_connected();
  }
  void on_dtls_failed(DtlsTransport::Failure reason) override {
    ++failed_events;
    failure = reason;
  }
  void on_dtls_closed() override { ++closed_events; }

  UdpSocket socket_;
  DtlsTransport dtls_;
  sockaddr_in remote_{};
};

// The event loop: poll() the sockets for at most the soonest transport timeout, feed what
// arrived, fire due timeouts. True when `done` became true within `limit`.
bool run_until(const std::vector<LoopMember*>& members, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    auto wait =
        std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + 1ms,
                 std::chrono::milliseconds{50});
    for (LoopMember* m : members) {
      if (const auto t = m->next_timeout()) wait = std::min(wait, *t);
    }
    std::vector<pollfd> fds;
    for (LoopMember* m : members) fds.push_back({m->fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents & POLLIN) members[i]->on_readable();
    }
    for (LoopMember* m : members) {
      if (const auto t = m->next_timeout(); t && *t <= 0ms) m->on_timeout();
    }
  }
  return true;
}

// A client (certificate A) and a server (certificate B) that expect each other.
struct Pair {
  Peer client{certificate_a(), DtlsRole::kClient, certificate_b().fingerprint()};
  Peer server{certificate_b(), DtlsRole::kServer, certificate_a().fingerprint()};

  Pair() {
    client.send_to(server.socket().address());
    server.send_to(client.socket().address());
  }
  std::vector<LoopMember*> members() { return {&client, &server}; }
  void start() {
    server.dtls().start();
    client.dtls().start();
  }
  bool both_connected() {
    return client.dtls().state() == DtlsTransport::State::kConnected &&
           server.dtls().state() == DtlsTransport::State::kConnected;
  }
  bool both_done() {
    auto done = [](Peer& p) {
      const auto s = p.dtls().state();
      return s == DtlsTransport::State::kConnected || s == DtlsTransport::State::kFailed ||
             s == DtlsTransport::State::kClosed;
    };
    return done(client) && done(server);
  }
};

void expect_mirrored_keys(const Peer& client, const Peer& server) {
  ASSERT_TRUE(client.profile && server.profile);
  EXPECT_EQ(*client.profile, *server.profile);
  const std::size_t size =
      srtp_master_key_length(*client.profile) + srtp_master_salt_length(*client.profile);
  EXPECT_EQ(client.keys.local.bytes().size(), size);
  EXPECT_EQ(client.keys.local, server.keys.remote);
  EXPECT_EQ(client.keys.remote, server.keys.local);
  EXPECT_FALSE(client.keys.local == client.keys.remote);
}

// Sends one SRTP packet from `from` (protected with its local key) over the sockets and
// checks that `to` unprotects it with its remote key.
void expect_srtp_flows(Peer& from, Peer& to, std::uint16_t seq) {
  auto outbound =
      SrtpSession::create(SrtpDirection::kOutbound, *from.profile, from.keys.local.bytes());
  auto inbound = SrtpSession::create(SrtpDirection::kInbound, *to.profile, to.keys.remote.bytes());
  ASSERT_TRUE(outbound && inbound);

  std::array<std::uint8_t, 1500> buffer{};
  const std::array<std::uint8_t, 12> header = {0x80,
                                               0x60,
                                               static_cast<std::uint8_t>(seq >> 8),
                                               static_cast<std::uint8_t>(seq),
                                               0,
                                               0,
                                               0,
                                               1,
                                               0xca,
                                               0xfe,
                                               0xba,
                                               0xbe};
  std::copy(header.begin(), header.end(), buffer.begin());
  for (std::size_t i = 12; i < 1012; ++i) buffer[i] = static_cast<std::uint8_t>(i);
  const Bytes plain(buffer.begin(), buffer.begin() + 1012);
  std::size_t len = plain.size();
  ASSERT_EQ(outbound->protect_rtp(buffer, len), SrtpStatus::kOk);
  from.socket().send_to({buffer.data(), len}, to.socket().address());

  std::optional<Bytes> received;
  for (int i = 0; i < 100 && !received; ++i) {
    pollfd fd{to.socket().fd(), POLLIN, 0};
    ::poll(&fd, 1, 20);
    received = to.socket().receive();
  }
  ASSERT_TRUE(received);
  ASSERT_EQ(received->size(), len);
  EXPECT_GE((*received)[0], 128);  // RFC 7983: RTP range, not DTLS
  EXPECT_FALSE(DtlsTransport::is_dtls(*received));
  std::copy(received->begin(), received->end(), buffer.begin());
  len = received->size();
  ASSERT_EQ(inbound->unprotect_rtp(buffer, len), SrtpStatus::kOk);
  EXPECT_EQ(Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(len)), plain);
}

// Fingerprints and certificates.

TEST(DtlsCertificate, HasSha256FingerprintForSdp) {
  const DtlsCertificate& a = certificate_a();
  EXPECT_EQ(a.fingerprint().algorithm, DtlsHashAlgorithm::kSha256);
  EXPECT_EQ(a.fingerprint().size, 32u);
  const std::string& sdp = a.sdp_fingerprint();
  ASSERT_EQ(sdp.size(), 8 + 32 * 3 - 1);
  EXPECT_EQ(sdp.substr(0, 8), "sha-256 ");
  for (std::size_t i = 8; i < sdp.size(); ++i) {
    const char c = sdp[i];
    if ((i - 8) % 3 == 2) {
      EXPECT_EQ(c, ':');
    } else {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) << sdp;
    }
  }
  EXPECT_EQ(DtlsFingerprint::parse(sdp), a.fingerprint());
  // Each certificate is its own: random key, serial and common name.
  EXPECT_FALSE(a.fingerprint() == certificate_b().fingerprint());
  EXPECT_NE(a.common_name(), certificate_b().common_name());
  EXPECT_EQ(a.common_name().size(), 16u);
}

TEST(DtlsFingerprint, ParsesWhatSdpCarries) {
  const auto fp =
      DtlsFingerprint::parse("SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->algorithm, DtlsHashAlgorithm::kSha1);
  EXPECT_EQ(fp->size, 20u);
  EXPECT_EQ(fp->digest[0], 0x4a);
  EXPECT_EQ(fp->digest[19], 0xab);
  EXPECT_EQ(fp->to_sdp(), "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  // Lower-case hex and surrounding blanks are tolerated.
  EXPECT_EQ(DtlsFingerprint::parse(
                "  sha-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab\r"),
            fp);
}

TEST(DtlsFingerprint, RejectsMalformedValues) {
  const std::string good = certificate_a().sdp_fingerprint();
  EXPECT_TRUE(DtlsFingerprint::parse(good));
  EXPECT_FALSE(DtlsFingerprint::parse(""));
  EXPECT_FALSE(DtlsFingerprint::parse("sha-256"));
  EXPECT_FALSE(DtlsFingerprint::parse("md5 " + good.substr(8)));          // unknown hash
  EXPECT_FALSE(DtlsFingerprint::parse("sha-384 " + good.substr(8)));      // wrong length
  EXPECT_FALSE(DtlsFingerprint::parse(good.substr(0, good.size() - 3)));  // short
  EXPECT_FALSE(DtlsFingerprint::parse(good + ":00"));                     // long
  std::string bad_hex = good;
  bad_hex[9] = 'G';
  EXPECT_FALSE(DtlsFingerprint::parse(bad_hex));
  std::string bad_separator = good;
  bad_separator[10] = '-';
  EXPECT_FALSE(DtlsFingerprint::parse(bad_separator));
}

// Handshakes.

TEST(DtlsLoopback, HandshakeThenSrtpBothWays) {
  Pair pair;
  EXPECT_EQ(pair.client.dtls().state(), DtlsTransport::State::kNew);
  pair.start();
  EXPECT_EQ(pair.client.dtls().state(), DtlsTransport::State::kConnecting);
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.both_connected(); }, 5s));

  EXPECT_EQ(pair.client.connected_events, 1);
  EXPECT_EQ(pair.server.connected_events, 1);
  EXPECT_EQ(pair.client.failed_events + pair.server.failed_events, 0);
  // Both offer GCM first, so GCM it is.
  EXPECT_EQ(pair.client.profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(pair.client.dtls().srtp_profile(), SrtpProfile::kAeadAes128Gcm);
  expect_mirrored_keys(pair.client, pair.server);
  // Every datagram fits the MTU.
  EXPECT_LE(pair.client.largest_datagram, DtlsOptions{}.mtu);
  EXPECT_LE(pair.server.largest_datagram, DtlsOptions{}.mtu);
  // Nothing left to retransmit on either side once both are connected.
  EXPECT_FALSE(pair.client.dtls().next_timeout());
  EXPECT_FALSE(pair.server.dtls().next_timeout());

  expect_srtp_flows(pair.client, pair.server, 1);
  expect_srtp_flows(pair.server, pair.client, 2);
}

TEST(DtlsLoopback, SmallMtuSplitsTheCertificateFlight) {
  DtlsOptions options = test_options();
  options.mtu = 512;
  Peer client(certificate_a(), DtlsRole::kClient, certificate_b().fingerprint(), options);
  Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint(), options);
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.dtls().start();
  ASSERT_TRUE(run_until(
      {&client, &server},
      [&] {
        return client.dtls().state() == DtlsTransport::State::kConnected &&
               server.dtls().state() == DtlsTransport::State::kConnected;
      },
      5s));
  EXPECT_LE(client.largest_datagram, 512u);
  EXPECT_LE(server.largest_datagram, 512u);
  expect_mirrored_keys(client, server);
}

TEST(DtlsLoopback, CloseNotifyReachesThePeer) {
  Pair pair;
  pair.start();
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.both_connected(); }, 5s));
  pair.client.dtls().close();
  EXPECT_EQ(pair.client.dtls().state(), DtlsTransport::State::kClosed);
  EXPECT_EQ(pair.client.closed_events, 0);  // no event for our own close()
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.server.closed_events == 1; }, 2s));
  EXPECT_EQ(pair.server.dtls().state(), DtlsTransport::State::kClosed);
  ASSERT_FALSE(pair.server.statuses.empty());
  EXPECT_EQ(pair.server.statuses.back(), DtlsTransport::ReceiveStatus::kClosed);
  // The server answered with its own close_notify, which the closed client ignores.
  const std::size_t client_received = pair.client.statuses.size();
  run_until(
      pair.members(), [&] { return pair.client.statuses.size() > client_received; }, 1s);
  ASSERT_GT(pair.client.statuses.size(), client_received);
  EXPECT_EQ(pair.client.statuses.back(), DtlsTransport::ReceiveStatus::kIgnored);
  EXPECT_FALSE(pair.client.dtls().next_timeout());
}

TEST(DtlsLoopback, WrongFingerprintAtTheClientFailsBothSides) {
  DtlsFingerprint wrong = certificate_b().fingerprint();
  wrong.digest[5] ^= 0x01;
  Peer client(certificate_a(), DtlsRole::kClient, wrong);
  Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint());
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.dtls().start();
  ASSERT_TRUE(run_until(
      {&client, &server},
      [&] {
        return client.dtls().state() == DtlsTransport::State::kFailed &&
               server.dtls().state() == DtlsTransport::State::kFailed;
      },
      5s));
  EXPECT_EQ(client.failure, DtlsTransport::Failure::kFingerprintMismatch);
  // The client's bad_certificate alert ends the server too.
  EXPECT_EQ(server.failure, DtlsTransport::Failure::kPeerAlert);
  EXPECT_FALSE(server.dtls().failure_detail().empty());
  EXPECT_EQ(client.connected_events + server.connected_events, 0);
  EXPECT_TRUE(client.keys.local.empty() && server.keys.local.empty());
  EXPECT_FALSE(client.dtls().srtp_profile());
  EXPECT_FALSE(client.dtls().next_timeout());
}

TEST(DtlsLoopback, WrongFingerprintAtTheServerFailsBothSides) {
  DtlsFingerprint wrong = certificate_a().fingerprint();
  wrong.digest[31] ^= 0x80;
  Peer client(certificate_a(), DtlsRole::kClient, certificate_b().fingerprint());
  Peer server(certificate_b(), DtlsRole::kServer, wrong);
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.dtls().start();
  ASSERT_TRUE(run_until(
      {&client, &server},
      [&] {
        return client.dtls().state() == DtlsTransport::State::kFailed &&
               server.dtls().state() == DtlsTransport::State::kFailed;
      },
      5s));
  EXPECT_EQ(server.failure, DtlsTransport::Failure::kFingerprintMismatch);
  EXPECT_EQ(client.failure, DtlsTransport::Failure::kPeerAlert);
  EXPECT_EQ(client.connected_events + server.connected_events, 0);
}

TEST(DtlsLoopback, FingerprintWithAnotherHashIsChecked) {
  // The peer may announce sha-384 or sha-512 (RFC 8122 §5); we digest with what it names.
  const std::string server_sdp = certificate_b().sdp_fingerprint();
  // Recompute B's fingerprint with SHA-512 through a transport that expects it: a wrong
  // sha-512 value must fail, proving the algorithm is honoured (a sha-256 check would
  // not even look at these bytes).
  DtlsFingerprint wrong512;
  wrong512.algorithm = DtlsHashAlgorithm::kSha512;
  wrong512.size = 64;
  wrong512.digest.fill(0xab);
  Peer client(certificate_a(), DtlsRole::kClient, wrong512);
  Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint());
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.dtls().start();
  ASSERT_TRUE(run_until(
      {&client, &server}, [&] { return client.dtls().state() == DtlsTransport::State::kFailed; },
      5s));
  EXPECT_EQ(client.failure, DtlsTransport::Failure::kFingerprintMismatch);
  EXPECT_FALSE(server_sdp.empty());
}

TEST(DtlsLoopback, LostFirstFlightsAreRetransmitted) {
  Pair pair;
  // Drop the client's first ClientHello and the server's first whole flight.
  int client_drops = 1;
  pair.client.drop = [&](std::span<const std::uint8_t>) { return client_drops-- > 0; };
  int server_flights_dropped = 0;
  pair.server.drop = [&](std::span<const std::uint8_t>) {
    // The server's first flight is every datagram it sends before it has seen the
    // client's second ClientHello retransmission; simplest: its first 3 datagrams.
    return server_flights_dropped++ < 3;
  };
  const auto started = Clock::now();
  pair.start();
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.both_connected(); }, 8s));
  const auto took = Clock::now() - started;
  EXPECT_GE(pair.client.dropped, 1);
  EXPECT_GE(pair.server.dropped, 1);
  // 100 ms, then 200 ms, ... : well under the 1 s OpenSSL would start with.
  EXPECT_LT(took, 3s);
  expect_mirrored_keys(pair.client, pair.server);
  expect_srtp_flows(pair.client, pair.server, 7);
}

TEST(DtlsLoopback, LostLastFlightIsResentWhenTheClientRetransmits) {
  Pair pair;
  // The server's last flight starts with its ChangeCipherSpec record (content type 20).
  // Lose it once: the server is already connected, the client retransmits its Finished
  // flight, and the server must answer from the connected state (RFC 6347 §4.2.4).
  bool lost = false;
  pair.server.drop = [&](std::span<const std::uint8_t> datagram) {
    if (!lost && !datagram.empty() && datagram[0] == 20) {
      lost = true;
      return true;
    }
    return false;
  };
  pair.start();
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.both_connected(); }, 8s));
  EXPECT_TRUE(lost);
  EXPECT_EQ(pair.server.dropped, 1);
  expect_mirrored_keys(pair.client, pair.server);
}

TEST(DtlsLoopback, ThirtyPercentRandomLossStillConnects) {
  for (const unsigned seed : {1u, 2u, 3u, 42u}) {
    Pair pair;
    std::mt19937 rng(seed);
    std::bernoulli_distribution lose(0.3);
    pair.client.drop = [&](std::span<const std::uint8_t>) { return lose(rng); };
    pair.server.drop = [&](std::span<const std::uint8_t>) { return lose(rng); };
    const auto started = Clock::now();
    pair.start();
    ASSERT_TRUE(run_until(
        pair.members(), [&] { return pair.both_connected(); }, 10s))
        << "seed " << seed;
    EXPECT_LT(Clock::now() - started, 10s) << "seed " << seed;
    expect_mirrored_keys(pair.client, pair.server);
  }
}

TEST(DtlsLoopback, UnansweredClientFailsAtTheHandshakeDeadline) {
  DtlsOptions options = test_options();
  options.handshake_timeout = 1s;
  Peer client(certificate_a(), DtlsRole::kClient, certificate_b().fingerprint(), options);
  UdpSocket silent;  // nobody answers
  client.send_to(silent.address());
  const auto started = Clock::now();
  client.dtls().start();
  const auto first = client.dtls().next_timeout();
  ASSERT_TRUE(first);
  EXPECT_LE(*first, 100ms);  // the initial retransmission timer
  EXPECT_GE(*first, 50ms);
  ASSERT_TRUE(run_until(
      {&client}, [&] { return client.dtls().state() == DtlsTransport::State::kFailed; }, 3s));
  const auto took = Clock::now() - started;
  EXPECT_EQ(client.failure, DtlsTransport::Failure::kHandshakeTimeout);
  EXPECT_GE(took, 950ms);
  EXPECT_LT(took, 1500ms);
  // ClientHello at 0, then 100, 300, 700 ms: at least 4 sends within the second.
  EXPECT_GE(client.sends, 4);
  EXPECT_FALSE(client.dtls().next_timeout());
}

TEST(DtlsLoopback, ServerWithoutClientFailsAtTheHandshakeDeadline) {
  DtlsOptions options = test_options();
  options.handshake_timeout = 300ms;
  Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint(), options);
  server.dtls().start();
  ASSERT_TRUE(server.dtls().next_timeout());  // the deadline, even with no flight out
  ASSERT_TRUE(run_until(
      {&server}, [&] { return server.dtls().state() == DtlsTransport::State::kFailed; }, 2s));
  EXPECT_EQ(server.failure, DtlsTransport::Failure::kHandshakeTimeout);
  EXPECT_EQ(server.sends, 0);
}

TEST(DtlsLoopback, TwoClientsFailCleanly) {
  // Both sides believe they are the client (a=setup mix-up): each gets a ClientHello
  // where it expects a ServerHello.
  Peer a(certificate_a(), DtlsRole::kClient, certificate_b().fingerprint());
  Peer b(certificate_b(), DtlsRole::kClient, certificate_a().fingerprint());
  a.send_to(b.socket().address());
  b.send_to(a.socket().address());
  a.dtls().start();
  b.dtls().start();
  ASSERT_TRUE(run_until(
      {&a, &b},
      [&] {
        return a.dtls().state() == DtlsTransport::State::kFailed &&
               b.dtls().state() == DtlsTransport::State::kFailed;
      },
      5s));
  EXPECT_EQ(a.connected_events + b.connected_events, 0);
  EXPECT_EQ(a.failed_events, 1);
  EXPECT_EQ(b.failed_events, 1);
}

TEST(DtlsLoopback, CallsFromInsideCallbacksAreIgnored) {
  Pair pair;
  pair.server.on_connected = [&] { pair.server.dtls().close(); };
  pair.start();
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.both_connected(); }, 5s));
  EXPECT_EQ(pair.server.dtls().state(), DtlsTransport::State::kConnected);
}

TEST(DtlsLoopback, NothingHappensBeforeStartOrAfterTheEnd) {
  Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint());
  const std::array<std::uint8_t, 13> record = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(server.dtls().receive(record), DtlsTransport::ReceiveStatus::kIgnored);
  EXPECT_FALSE(server.dtls().next_timeout());
  server.dtls().on_timeout();
  server.dtls().close();
  EXPECT_EQ(server.dtls().state(), DtlsTransport::State::kClosed);
  server.dtls().start();  // closed is final
  EXPECT_EQ(server.dtls().state(), DtlsTransport::State::kClosed);
  EXPECT_EQ(server.dtls().receive(record), DtlsTransport::ReceiveStatus::kIgnored);
  EXPECT_EQ(server.sends, 0);
}

// Hostile input.

std::vector<Bytes> garbage_datagrams(const std::vector<Bytes>& real, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> dtls_first(20, 63);
  std::vector<Bytes> out;
  // Random bytes of every small length and some large ones, all in the DTLS range.
  for (std::size_t size = 1; size < 40; ++size) {
    Bytes d(size);
    for (auto& b : d) b = static_cast<std::uint8_t>(byte(rng));
    d[0] = static_cast<std::uint8_t>(dtls_first(rng));
    out.push_back(d);
  }
  for (int i = 0; i < 50; ++i) {
    Bytes d(std::uniform_int_distribution<std::size_t>(40, 1500)(rng));
    for (auto& b : d) b = static_cast<std::uint8_t>(byte(rng));
    d[0] = static_cast<std::uint8_t>(dtls_first(rng));
    out.push_back(d);
  }
  // Real records, truncated at every length, and with flipped bytes.
  for (const Bytes& r : real) {
    for (std::size_t cut = 1; cut < r.size(); cut += 7)
      out.emplace_back(r.begin(), r.begin() + cut);
    for (int i = 0; i < 5; ++i) {
      Bytes d = r;
      d[std::uniform_int_distribution<std::size_t>(1, d.size() - 1)(rng)] ^=
          static_cast<std::uint8_t>(1 + byte(rng) % 255);
      out.push_back(d);
    }
  }
  // Record headers whose length field lies (RFC 6347 §4.1: 13-byte header).
  for (const std::uint8_t type : {20, 21, 22, 23}) {
    out.push_back({type, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff});
    out.push_back({type, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0x40, 0x00, 1, 2, 3});
    out.push_back({type, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 0});
  }
  return out;
}

TEST(DtlsLoopback, NotDtlsIsRefusedWithoutLookingFurther) {
  Pair pair;
  pair.start();
  EXPECT_EQ(pair.server.dtls().receive({}), DtlsTransport::ReceiveStatus::kNotDtls);
  const std::array<std::uint8_t, 4> stun = {0, 1, 0, 0};
  const std::array<std::uint8_t, 4> rtp = {0x80, 0, 0, 0};
  const std::array<std::uint8_t, 4> high = {64, 0, 0, 0};
  EXPECT_EQ(pair.server.dtls().receive(stun), DtlsTransport::ReceiveStatus::kNotDtls);
  EXPECT_EQ(pair.server.dtls().receive(rtp), DtlsTransport::ReceiveStatus::kNotDtls);
  EXPECT_EQ(pair.server.dtls().receive(high), DtlsTransport::ReceiveStatus::kNotDtls);
  EXPECT_EQ(pair.server.dtls().state(), DtlsTransport::State::kConnecting);
}

TEST(DtlsLoopback, GarbageDuringTheHandshakeNeverCrashes) {
  // Real records to mutate: a handshake's worth from a first pair.
  std::vector<Bytes> real;
  {
    Pair first;
    first.start();
    ASSERT_TRUE(run_until(
        first.members(), [&] { return first.both_connected(); }, 5s));
    real = first.client.sent;
    real.insert(real.end(), first.server.sent.begin(), first.server.sent.end());
  }
  int still_connecting = 0;
  int failed_cleanly = 0;
  UdpSocket sink;  // where the servers' answers (alerts, a ServerHello) go
  for (const Bytes& g : garbage_datagrams(real, 7)) {
    Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint());
    server.send_to(sink.address());
    server.dtls().start();
    const auto status = server.dtls().receive(g);
    const auto state = server.dtls().state();
    if (state == DtlsTransport::State::kConnecting) {
      EXPECT_EQ(status, DtlsTransport::ReceiveStatus::kOk);
      EXPECT_EQ(server.failed_events, 0);
      ++still_connecting;
    } else {
      ASSERT_EQ(state, DtlsTransport::State::kFailed);
      EXPECT_EQ(status, DtlsTransport::ReceiveStatus::kFailed);
      EXPECT_EQ(server.failed_events, 1);
      ++failed_cleanly;
    }
    EXPECT_EQ(server.connected_events, 0);
  }
  EXPECT_GT(still_connecting, 0);
  EXPECT_GT(failed_cleanly, 0);  // some mutations are fatal (a bad ClientHello), cleanly
  while (sink.receive()) {
  }
  // A server that swallowed garbage still completes a real handshake afterwards when the
  // garbage was silently discarded (RFC 6347 §4.1.2.7): check with random bytes.
  Pair pair;
  pair.start();
  for (std::size_t i = 0; i < 40; ++i) {
    const Bytes g = garbage_datagrams({}, 11)[i];
    pair.server.dtls().receive(g);
    if (pair.server.dtls().state() != DtlsTransport::State::kConnecting) break;
  }
  if (pair.server.dtls().state() == DtlsTransport::State::kConnecting) {
    EXPECT_TRUE(run_until(
        pair.members(), [&] { return pair.both_connected(); }, 5s));
  }
}

TEST(DtlsLoopback, GarbageAfterConnectingLeavesTheSessionUsable) {
  Pair pair;
  pair.start();
  ASSERT_TRUE(run_until(
      pair.members(), [&] { return pair.both_connected(); }, 5s));
  std::vector<Bytes> real = pair.client.sent;
  real.insert(real.end(), pair.server.sent.begin(), pair.server.sent.end());
  for (const Bytes& g : garbage_datagrams(real, 99)) {
    const auto status = pair.server.dtls().receive(g);
    ASSERT_EQ(pair.server.dtls().state(), DtlsTransport::State::kConnected)
        << "status " << static_cast<int>(status) << " size " << g.size();
    const auto client_status = pair.client.dtls().receive(g);
    ASSERT_EQ(pair.client.dtls().state(), DtlsTransport::State::kConnected)
        << "status " << static_cast<int>(client_status) << " size " << g.size();
  }
  // Replays of the whole handshake are harmless too.
  for (const Bytes& r : real) {
    pair.server.dtls().receive(r);
    pair.client.dtls().receive(r);
  }
  ASSERT_TRUE(pair.both_connected());
  // Still the same association: keys unchanged, SRTP flows, close_notify is understood.
  expect_srtp_flows(pair.client, pair.server, 3);
  pair.client.dtls().close();
  EXPECT_TRUE(run_until(
      pair.members(), [&] { return pair.server.closed_events == 1; }, 2s));
}

// What Chromium sends.

// A ClientHello of Chromium 156 (Debian's build), captured on loopback between two of its
// peer connections. It offers DTLS 1.3 and 1.2 (supported_versions), an X25519MLKEM768
// key share that makes it 1413 bytes long, so it comes as two fragments in two
// datagrams (RFC 6347 §4.2.3), and use_srtp with SRTP_AES128_CM_HMAC_SHA1_80,
// SRTP_AEAD_AES_256_GCM, SRTP_AEAD_AES_128_GCM in that order of preference.
// Datagram 1 of 2 (1200 bytes).
const char kChromium156ClientHello1[] =
    "16feff000000000000000004a3010005850000000000000497fefdc861b4f36799364b4bc2faaf3ff44faee1745a"
    "df72524c0fa7d4643b8b094b760000001c130113021303c02bc02fcca9cca8c009c013c00ac014009c002f003501"
    "00053f000b00020100000a000a000811ec001d00170018002b000504fefcfefd002d00020101000e000900060001"
    "0008000700003304ea04e811ec04c037b7299f4c4622757d82093c88ba81c1e04e1b5a846ad67239811f53d89940"
    "6649e42b754ad707c943963fbb9950b077584a7934ec1376a04b2ad8470b93930c2b4948499b3f1292d18ab54cda"
    "c11f4bbf5a04cbbe3397757597d8714fa9611539a6a18a17b1cc82334a30c4533cb7e3c548699747e4430b25422e"
    "b8c18fabd48e9f031a3c6801b202c3c5337add7419f5f73f2dc49a0a4b929a0c3abd7c38e64c9fe7ccb4697ccba4"
    "7c8d4ed195baf75b921aa5445c9056f7ba6779a6503c8bf58ab1672a99c7582d64a894c79714447434c078cca5cc"
    "5463f97f9ca27d4c266b1d851dcd672747ac5dda5313bd15c8edf49b80509c6272996956633205a4522423ab7a9d"
    "9fd78f7e907d9f214a795a14fa81ae34e11a95964b313b40edb1367b9c29a9ccac5f6339a625512277057ec334ea"
    "b26aac1b9b5d810470f0b830d26d84b08ab83407491b300197510f83152f32923aab02a2e723c5a144a4fb19697a"
    "bf7869512a8c2decb8bb67ea85c619273c3c8689ec2dbb8a5a249bc486885f46608df113b550f48055fb6184ba75"
    "48296124660920ea33c7436f51fabb7d66b03a679c75443867738ca0765df7703455c742fdf35d66b418bca24417"
    "a094c9a09be390277c491b299cc2818368c07c5f5fe365df490fd5c97310e438cf4c3de83a8d63816b4e7385e3c4"
    "34d48904d29c9e9f5094306b0e8c716a24d18547510edccb3c301a1b5c3c79de87c77e7151f84c1706dabc3e38b6"
    "5478a2c261bfd0cab6a6d54d92544809ca8db489bff2e28eb069176b1503aa18cf01303692166d0c2857dd43b19f"
    "9840d7634ba5b9a4cd71ce265455e3111776e4cdc3f4607abc32b7839b4e519b8b6a0b343a1b881845b5411b718c"
    "b2d76b71e3e1cd2dc11e7c7ac48af9436be77298b5cdb628c946f8a887b9a266516304e9a30d3044bb369d618b69"
    "8ce11b572a1a775a7f9dc7727f7bae95d161ff3014b707be4f3834ac2ab59ba0124df310e76cadd0b510845812eb"
    "cc2d0d1665079396d6470590e590b4920966384bd93557a9b71d8704177a251c80503e42d971a4245779ea944d68"
    "6038f1b663da5d82337f3bb341b68240d2e35ed8c22bbcd3210d83a979957a62c50d84824f2dd48567d3ce61578d"
    "839c5438db91ec128fe742a477dc51ee665fc83159d5d633de5c296235356efb0ed5467d7f19757e6654594939b3"
    "b51fa2faa498fc4e83ca3ae942b44f1a9e02a3c0283050b0ac9d4a7a790338115b56581715713674763ea82c9d56"
    "8cf1c89dcb07c57c5435d353302009bb6b7b2c09953fd9f7078d609833b78410703495695bfd02229d9732adfb07"
    "9267ce3701c1b590c24286c9b5f90b28167a8c983fb4196ec6c0a92a7189bfe25cb7336f39254485c6ad8b62bc7a"
    "ac2d8d0898393652ea5311ac21ce50b03099996e9500bc6a93325908c86414a6346c6630036f27f19e5deaa58b48"
    "a780e920";
// Datagram 2 of 2 (263 bytes).
const char kChromium156ClientHello2[] =
    "16feff000000000000000100fa0100058500000004970000ee2a5c360fa10c9958c2fe1751a0757e6a80bb5ed7ca"
    "76486e6fc1c6eb28488c7934767a4210d68d9685aa63224ff471700cebcc1c3a9f9d4a1b1afaa90fa95c4acb858f"
    "077aa58845a7560e28f8543961a60702314b0b3e1c670ffec93a013a050b4252030553b90384589440db05209716"
    "0dcd107e0c3bca3640eeffc3757ff26a02369bf919aa54df1c1f76ccdc8b150d1e0e446276a1cda3b342ebab16fd"
    "c5d42193bb042a537e11001d002054023ce8973a20d97e99d03fc1b7f7a64d8ede07f4cd8bc849ddd437b415d434"
    "00170000000d00140012040308040401050308050501080606010201ff01000100";

Bytes from_hex(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out.push_back(static_cast<std::uint8_t>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  }
  return out;
}

std::uint16_t read16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}

TEST(DtlsLoopback, ChromiumClientHelloInTwoFragmentsGetsDtls12AndGcm) {
  UdpSocket sink;
  Peer server(certificate_b(), DtlsRole::kServer, certificate_a().fingerprint());
  server.send_to(sink.address());
  server.dtls().start();
  EXPECT_EQ(server.dtls().receive(from_hex(kChromium156ClientHello1)),
            DtlsTransport::ReceiveStatus::kOk);
  EXPECT_EQ(server.sends, 0);  // half a ClientHello: nothing to answer yet
  EXPECT_EQ(server.dtls().receive(from_hex(kChromium156ClientHello2)),
            DtlsTransport::ReceiveStatus::kOk);
  ASSERT_GE(server.sends, 1);
  EXPECT_EQ(server.dtls().state(), DtlsTransport::State::kConnecting);
  for (const Bytes& d : server.sent) EXPECT_LE(d.size(), DtlsOptions{}.mtu);

  // The ServerHello: first record of the first datagram (RFC 6347 §4.1, §4.2.2).
  const Bytes& hello = server.sent.front();
  ASSERT_EQ(hello.at(0), 22);  // handshake
  ASSERT_EQ(hello.at(13), 2);  // ServerHello
  std::size_t at = 13 + 12;
  EXPECT_EQ(read16(hello, at), 0xfefd);  // DTLS 1.2: Chromium falls back from 1.3
  at += 2 + 32;
  at += 1 + hello.at(at);                // session id
  EXPECT_EQ(read16(hello, at), 0xc02b);  // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  at += 2 + 1;
  const std::size_t extensions_end = at + 2 + read16(hello, at);
  at += 2;
  std::optional<std::uint16_t> srtp_profile;
  while (at + 4 <= extensions_end) {
    const std::uint16_t type = read16(hello, at);
    const std::uint16_t size = read16(hello, at + 2);
    if (type == 14) {  // use_srtp (RFC 5764 §4.1.1): one profile, then an empty MKI
      ASSERT_EQ(size, 5);
      EXPECT_EQ(read16(hello, at + 4), 2);
      srtp_profile = read16(hello, at + 6);
    }
    at += 4 + size;
  }
  // Our preference wins as the server: GCM, although Chromium lists CM first.
  EXPECT_EQ(srtp_profile, 0x0007);
  while (sink.receive()) {
  }
}

// A plain OpenSSL peer.

// A DTLS client written directly on OpenSSL with memory BIOs (not our BIO, not our
// context), to check our server against an independent implementation of RFC 5764's key
// export and against peers that offer only the CM profile or no use_srtp at all.
class PlainOpenSslClient final : public LoopMember {
 public:
  explicit PlainOpenSslClient(const char* srtp_profiles) {
    key_ = EVP_EC_gen("P-256");
    certificate_ = X509_new();
    X509_set_version(certificate_, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate_), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate_), 0);
    X509_gmtime_adj(X509_getm_notAfter(certificate_), 3600);
    X509_NAME* name = X509_get_subject_name(certificate_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("plain"), -1, -1, 0);
    X509_set_issuer_name(certificate_, name);
    X509_set_pubkey(certificate_, key_);
    X509_sign(certificate_, key_, EVP_sha256());
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    X509_digest(certificate_, EVP_sha256(), digest.data(), &size);
    std::copy(digest.begin(), digest.end(), fingerprint.digest.begin());
    fingerprint.size = size;

    context_ = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(context_, certificate_);
    SSL_CTX_use_PrivateKey(context_, key_);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    if (srtp_profiles != nullptr) {
      EXPECT_EQ(SSL_CTX_set_tlsext_use_srtp(context_, srtp_profiles), 0);
    }
    ssl_ = SSL_new(context_);
    read_ = BIO_new(BIO_s_mem());
    write_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(read_, -1);
    SSL_set_bio(ssl_, read_, write_);
    SSL_set_mtu(ssl_, 1200);
    SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
    SSL_set_connect_state(ssl_);
  }
  ~PlainOpenSslClient() override {
    SSL_free(ssl_);
    SSL_CTX_free(context_);
    X509_free(certificate_);
    EVP_PKEY_free(key_);
  }

  void send_to(const sockaddr_in& remote) { remote_ = remote; }
  const UdpSocket& socket() const { return socket_; }
  void step() {
    const int result = SSL_do_handshake(ssl_);
    if (result == 1) done = true;
    if (result <= 0 && SSL_get_error(ssl_, result) == SSL_ERROR_SSL) failed = true;
    ERR_clear_error();
    // A memory BIO has no datagram boundaries: send what OpenSSL wrote as one datagram
    // (legal, records may share a datagram, and loopback takes 64 KB).
    std::array<std::uint8_t, 65536> buffer;
    const int n = BIO_read(write_, buffer.data(), static_cast<int>(buffer.size()));
    if (n > 0) socket_.send_to({buffer.data(), static_cast<std::size_t>(n)}, remote_);
  }
  // RFC 5764 §4.2, computed here independently of DtlsTransport.
  Bytes export_keys(std::size_t size) {
    Bytes out(size);
    EXPECT_EQ(SSL_export_keying_material(ssl_, out.data(), size, "EXTRACTOR-dtls_srtp", 19, nullptr,
                                         0, 0),
              1);
    return out;
  }
  const SRTP_PROTECTION_PROFILE* profile() { return SSL_get_selected_srtp_profile(ssl_); }

  int fd() const override { return socket_.fd(); }
  void on_readable() override {
    while (auto datagram = socket_.receive()) {
      BIO_write(read_, datagram->data(), static_cast<int>(datagram->size()));
      step();
    }
  }
  std::optional<std::chrono::milliseconds> next_timeout() override {
    timeval tv{};
    if (DTLSv1_get_timeout(ssl_, &tv) != 1) return std::nullopt;
    return std::chrono::milliseconds{tv.tv_sec * 1000 + tv.tv_usec / 1000};
  }
  void on_timeout() override {
    DTLSv1_handle_timeout(ssl_);
    step();
  }

  DtlsFingerprint fingerprint;
  bool done = false;
  bool failed = false;

 private:
  UdpSocket socket_;
  sockaddr_in remote_{};
  EVP_PKEY* key_ = nullptr;
  X509* certificate_ = nullptr;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* read_ = nullptr;
  BIO* write_ = nullptr;
};

TEST(DtlsLoopback, PlainOpenSslPeerWithOnlyTheCmProfile) {
  PlainOpenSslClient client("SRTP_AES128_CM_SHA1_80");
  Peer server(certificate_b(), DtlsRole::kServer, client.fingerprint);
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.step();
  ASSERT_TRUE(run_until(
      {&client, &server},
      [&] { return client.done && server.dtls().state() == DtlsTransport::State::kConnected; },
      5s));
  ASSERT_EQ(server.profile, SrtpProfile::kAes128CmHmacSha1_80);
  ASSERT_NE(client.profile(), nullptr);
  EXPECT_EQ(client.profile()->id, static_cast<unsigned long>(SRTP_AES128_CM_SHA1_80));

  // client_key(16) | server_key(16) | client_salt(14) | server_salt(14)
  const Bytes material = client.export_keys(60);
  const Bytes client_master = [&] {
    Bytes k(material.begin(), material.begin() + 16);
    k.insert(k.end(), material.begin() + 32, material.begin() + 46);
    return k;
  }();
  const Bytes server_master = [&] {
    Bytes k(material.begin() + 16, material.begin() + 32);
    k.insert(k.end(), material.begin() + 46, material.begin() + 60);
    return k;
  }();
  const auto local = server.keys.local.bytes();
  const auto remote = server.keys.remote.bytes();
  EXPECT_EQ(Bytes(local.begin(), local.end()), server_master);
  EXPECT_EQ(Bytes(remote.begin(), remote.end()), client_master);
}

TEST(DtlsLoopback, PlainOpenSslPeerGetsGcmWhenItOffersBoth) {
  // Offered in the opposite order: as the server, our preference (GCM) wins.
  PlainOpenSslClient client("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM");
  Peer server(certificate_b(), DtlsRole::kServer, client.fingerprint);
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.step();
  ASSERT_TRUE(run_until(
      {&client, &server},
      [&] { return client.done && server.dtls().state() == DtlsTransport::State::kConnected; },
      5s));
  EXPECT_EQ(server.profile, SrtpProfile::kAeadAes128Gcm);
  // client_key(16) | server_key(16) | client_salt(12) | server_salt(12)
  const Bytes material = client.export_keys(56);
  Bytes client_master(material.begin(), material.begin() + 16);
  client_master.insert(client_master.end(), material.begin() + 32, material.begin() + 44);
  const auto remote = server.keys.remote.bytes();
  EXPECT_EQ(Bytes(remote.begin(), remote.end()), client_master);
}

TEST(DtlsLoopback, PeerWithoutUseSrtpIsRefused) {
  PlainOpenSslClient client(nullptr);
  Peer server(certificate_b(), DtlsRole::kServer, client.fingerprint);
  client.send_to(server.socket().address());
  server.send_to(client.socket().address());
  server.dtls().start();
  client.step();
  ASSERT_TRUE(run_until(
      {&client, &server}, [&] { return server.dtls().state() == DtlsTransport::State::kFailed; },
      5s));
  EXPECT_EQ(server.failure, DtlsTransport::Failure::kNoSrtpProfile);
  EXPECT_EQ(server.connected_events, 0);
}

}  // namespace
}  // namespace conclave::rtc
