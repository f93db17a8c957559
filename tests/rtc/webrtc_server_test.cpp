// The worker's UDP port over real loopback sockets: a STUN check reaches its transport by
// ufrag and is answered; wrong credentials, unknown ufrags, garbage and media from
// addresses that never passed a check are counted and dropped, and change nothing.
#include "rtc/webrtc_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include "rtc/echo_session.hpp"

namespace conclave::rtc {
namespace {

class Client {
 public:
  Client() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~Client() { ::close(fd_); }
  void send_to(std::uint16_t port, std::span<const std::uint8_t> data) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // Runs the server's loop until a datagram arrives here or `ms` pass.
  std::optional<std::vector<std::uint8_t>> receive(boost::asio::io_context& io, int ms) {
    for (int waited = 0; waited < ms; waited += 5) {
      io.run_for(std::chrono::milliseconds(5));
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) == 1) {
        std::vector<std::uint8_t> buf(2048);
        const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
        buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return buf;
      }
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
};

std::vector<std::uint8_t> check(std::string_view username, std::string_view password) {
  std::array<std::uint8_t, 548> buf{};
  std::array<std::uint8_t, stun::kTransactionIdSize> txid{};
  txid.fill(7);
  stun::MessageWriter w(buf, stun::MessageClass::kRequest, stun::Method::kBinding, txid);
  w.add_username(username).add_priority(1).add_ice_controlling(42).add_use_candidate();
  const auto r = w.finish(stun::short_term_key(password), true);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.size)};
}

class WebRtcServerTest : public ::testing::Test {
 protected:
  metrics::Registry registry;
  RtcCounters counters = RtcCounters::create(registry);
  boost::asio::io_context io;
  WebRtcServer server{io, "127.0.0.1", 0, counters};
  WebRtcTransport* transport = nullptr;

  void SetUp() override {
    server.start();
    WebRtcTransport::Parameters p;
    p.ice = {"ufrag1", "password-password-1234", ""};
    p.dtls_role = DtlsRole::kServer;
    p.remote_fingerprint.size = 32;
    transport = &server.add_transport(std::move(p), std::make_unique<EchoSession>());
  }
  void TearDown() override { server.stop(); }
};

TEST_F(WebRtcServerTest, AnswersAValidCheckAndDropsEverythingElse) {
  Client browser;
  browser.send_to(server.port(), check("ufrag1:remote", "password-password-1234"));
  const auto answer = browser.receive(io, 2000);
  ASSERT_TRUE(answer);
  const auto view = stun::MessageView::parse(*answer);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->message_class(), stun::MessageClass::kSuccessResponse);
  EXPECT_TRUE(stun::check_integrity(*view, stun::short_term_key("password-password-1234")));
  EXPECT_EQ(transport->state(), WebRtcTransport::State::kConnecting);
  EXPECT_TRUE(transport->ice().nominated());

  Client stranger;
  stranger.send_to(server.port(), check("ufrag1:remote", "wrong-password-wrong-pw"));
  EXPECT_FALSE(stranger.receive(io, 100));
  EXPECT_EQ(counters.dropped_stun_integrity.value(), 1u);
  stranger.send_to(server.port(), check("nobody:remote", "password-password-1234"));
  EXPECT_FALSE(stranger.receive(io, 100));
  EXPECT_EQ(counters.dropped_stun_username.value(), 1u);

  // Media and DTLS from an address that never passed a check: dropped.
  const std::vector<std::uint8_t> rtp(100, 0x80), dtls(40, 22);
  stranger.send_to(server.port(), rtp);
  stranger.send_to(server.port(), dtls);
  EXPECT_FALSE(stranger.receive(io, 100));
  EXPECT_EQ(counters.dropped_unknown_source.value(), 2u);

  // Garbage in the unassigned first-byte ranges, and STUN that does not parse.
  const std::vector<std::uint8_t> junk1{70, 1, 2}, junk2{255}, junk3{0, 1, 0, 8};
  stranger.send_to(server.port(), junk1);
  stranger.send_to(server.port(), junk2);
  stranger.send_to(server.port(), junk3);
  EXPECT_FALSE(stranger.receive(io, 100));
  EXPECT_EQ(counters.dropped_malformed.value(), 3u);

  // Media from the checked address before DTLS finished: not decrypted, counted.
  browser.send_to(server.port(), rtp);
  EXPECT_FALSE(browser.receive(io, 100));
  EXPECT_EQ(counters.dropped_not_connected.value(), 1u);

  // None of it disturbed the transport.
  EXPECT_EQ(transport->state(), WebRtcTransport::State::kConnecting);
  EXPECT_EQ(server.transport_count(), 1u);
  EXPECT_EQ(counters.transports.value(), 1);
}

}  // namespace
}  // namespace conclave::rtc
