// The one UDP socket of a media worker (DESIGN.md: one port per worker, no socket per
// connection). Owned by the worker and used only on its thread. When the worker's loop
// reports the socket readable, it drains the kernel queue with recvmmsg in batches of
// kBatch datagrams into buffers it owns and reuses, and hands each datagram, in place, to
// its listener: no allocation and no copy per packet on receive.
#pragma once

// Boost 1.74's awaitable.hpp (pulled in by asio) uses std::exchange without <utility>.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "rtc/endpoint.hpp"

namespace conclave::rtc {

class UdpSocket {
 public:
  static constexpr std::size_t kBatch = 32;
  // Room for the largest datagram we accept plus SRTP's trailer when a packet is
  // re-protected in place (SRTP_MAX_TRAILER_LEN is 144 in libsrtp2).
  static constexpr std::size_t kBufferSize = 2048;

  class Listener {
   public:
    virtual ~Listener() = default;
    // `data` is writable and stays valid until the call returns; `capacity` bytes starting
    // at data.data() may be used (to decrypt or re-protect in place).
    virtual void on_datagram(std::span<std::uint8_t> data, std::size_t capacity,
                             const Endpoint& from) noexcept = 0;
  };

  // Binds to address:port (port 0: any). On failure returns null and sets `error` to a
  // one-line reason naming the address.
  static std::unique_ptr<UdpSocket> open(boost::asio::io_context& io, const std::string& address,
                                         std::uint16_t port, Listener& listener,
                                         std::string& error);

  void start();
  void close();
  // Sends one datagram. While received datagrams are being handled (inside on_datagram,
  // where the forwarding happens) it is queued instead and all queued ones go out in one
  // sendmmsg per kBatch, before the receive loop reads again: one system call instead of
  // one per packet of a fan-out (docs/benchmarks.md, "The ceiling"). Queued sends count as
  // sent; a datagram the kernel refuses then is counted in send_errors.
  bool send(std::span<const std::uint8_t> data, const Endpoint& to) noexcept;
  std::uint16_t port() const noexcept { return port_; }

  struct Counters {
    std::uint64_t datagrams_in = 0, bytes_in = 0, datagrams_out = 0, bytes_out = 0, send_errors = 0,
                  truncated = 0;
  };
  const Counters& counters() const noexcept { return counters_; }

 private:
  UdpSocket(boost::asio::io_context& io, Listener& listener);
  void wait_readable();
  void drain() noexcept;
  void flush() noexcept;

  boost::asio::ip::udp::socket socket_;
  Listener& listener_;  // Passed by argument.
  std::uint16_t port_ = 0;
  Counters counters_;
  // Allocated by this, once.
  std::unique_ptr<std::array<std::array<std::uint8_t, kBufferSize>, kBatch>> buffers_;
  // Datagrams queued while draining, and where they go.
  struct Outgoing {
    std::array<std::array<std::uint8_t, kBufferSize>, kBatch> data;
    std::array<std::size_t, kBatch> size;
    std::array<Endpoint, kBatch> to;
  };
  std::unique_ptr<Outgoing> out_;
  std::size_t queued_ = 0;
  bool draining_ = false;
};

}  // namespace conclave::rtc
