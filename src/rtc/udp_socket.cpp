#include "rtc/udp_socket.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace conclave::rtc {

namespace asio = boost::asio;

UdpSocket::UdpSocket(asio::io_context& io, Listener& listener)
    : socket_(io),
      listener_(listener),
      buffers_(std::make_unique<std::array<std::array<std::uint8_t, kBufferSize>, kBatch>>()),
      out_(std::make_unique<Outgoing>()) {}

std::unique_ptr<UdpSocket> UdpSocket::open(asio::io_context& io, const std::string& address,
                                           std::uint16_t port, Listener& listener,
                                           std::string& error) {
  std::unique_ptr<UdpSocket> s(new UdpSocket(io, listener));
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    error = fmt::format("cannot open UDP {}:{}: not an IP address", address, port);
    return nullptr;
  }
  const asio::ip::udp::endpoint ep(ip, port);
  s->socket_.open(ep.protocol(), ec);
  if (!ec) s->socket_.non_blocking(true, ec);
  // Media bursts (a keyframe is dozens of packets) must not overflow the kernel queue
  // while the worker is busy; the kernel caps this at net.core.rmem_max.
  if (!ec) s->socket_.set_option(asio::socket_base::receive_buffer_size(4 * 1024 * 1024), ec);
  if (!ec) s->socket_.set_option(asio::socket_base::send_buffer_size(4 * 1024 * 1024), ec);
  if (!ec) s->socket_.bind(ep, ec);
  if (ec) {
    error = fmt::format("cannot open UDP {}:{}: {}", address, port, ec.message());
    return nullptr;
  }
  s->port_ = s->socket_.local_endpoint().port();
  return s;
}

void UdpSocket::start() {
  wait_readable();
}

void UdpSocket::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void UdpSocket::wait_readable() {
  socket_.async_wait(asio::socket_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed
    drain();
    wait_readable();
  });
}

void UdpSocket::drain() noexcept {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iovs{};
  std::array<sockaddr_storage, kBatch> addrs{};
  const int fd = socket_.native_handle();
  // Bounded: after this many batches the loop gets a turn (timers, posted work) even if
  // the socket is flooded.
  for (int round = 0; round < 8; ++round) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {(*buffers_)[i].data(), kBufferSize};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN: drained; other errors: try again on the next wakeup
    draining_ = true;
    for (int i = 0; i < n; ++i) {
      const auto len = msgs[i].msg_len;
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.truncated;
        continue;
      }
      ++counters_.datagrams_in;
      counters_.bytes_in += len;
      const auto from =
          Endpoint::from(reinterpret_cast<const sockaddr*>(&addrs[i]), msgs[i].msg_hdr.msg_namelen);
      listener_.on_datagram(std::span<std::uint8_t>((*buffers_)[i].data(), len), kBufferSize, from);
    }
    draining_ = false;
    flush();
    if (static_cast<std::size_t>(n) < kBatch) return;
  }
}

bool UdpSocket::send(std::span<const std::uint8_t> data, const Endpoint& to) noexcept {
  if (draining_ && data.size() <= kBufferSize) {
    std::memcpy(out_->data[queued_].data(), data.data(), data.size());
    out_->size[queued_] = data.size();
    out_->to[queued_] = to;
    if (++queued_ == kBatch) flush();
    return true;
  }
  const auto n = ::sendto(socket_.native_handle(), data.data(), data.size(), MSG_DONTWAIT,
                          to.sockaddr_ptr(), to.length);
  if (n < 0) {
    ++counters_.send_errors;
    return false;
  }
  ++counters_.datagrams_out;
  counters_.bytes_out += data.size();
  return true;
}

void UdpSocket::flush() noexcept {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iovs{};
  std::size_t at = 0;
  while (at < queued_) {
    const std::size_t count = queued_ - at;
    for (std::size_t i = 0; i < count; ++i) {
      iovs[i] = {out_->data[at + i].data(), out_->size[at + i]};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = const_cast<sockaddr*>(out_->to[at + i].sockaddr_ptr());
      msgs[i].msg_hdr.msg_namelen = out_->to[at + i].length;
    }
    const int n = ::sendmmsg(socket_.native_handle(), msgs.data(), static_cast<unsigned>(count),
                             MSG_DONTWAIT);
    if (n <= 0) {
      // The first of them was refused (a full buffer, an unreachable address): count it
      // and go on with the rest.
      ++counters_.send_errors;
      ++at;
      continue;
    }
    for (int i = 0; i < n; ++i) {
      ++counters_.datagrams_out;
      counters_.bytes_out += out_->size[at + static_cast<std::size_t>(i)];
    }
    at += static_cast<std::size_t>(n);
  }
  queued_ = 0;
}

}  // namespace conclave::rtc
