// A UDP peer address (IPv4 or IPv6) as the packet path sees it: a plain value, cheap to
// compare and hash, so that it can key the 5-tuple table of a worker's socket.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace conclave::rtc {

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  static Endpoint from(const sockaddr* addr, socklen_t len) noexcept {
    Endpoint e;
    if (len > sizeof e.storage) len = sizeof e.storage;
    std::memcpy(&e.storage, addr, len);
    e.length = len;
    return e;
  }
  // Parses "127.0.0.1" / "::1" with a port; nullopt-like empty Endpoint (length 0) on error.
  static Endpoint parse(const std::string& ip, std::uint16_t port) noexcept;

  int family() const noexcept { return storage.ss_family; }
  bool valid() const noexcept { return length != 0; }
  std::uint16_t port() const noexcept;
  // 4 or 16 address bytes.
  const std::uint8_t* address_bytes() const noexcept;
  std::size_t address_size() const noexcept { return family() == AF_INET6 ? 16 : 4; }
  const sockaddr* sockaddr_ptr() const noexcept {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
  std::string ip_string() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
    return a.family() == b.family() && a.port() == b.port() &&
           std::memcmp(a.address_bytes(), b.address_bytes(), a.address_size()) == 0;
  }
};

struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept {
    // FNV-1a over address and port. Entries are only added for peers that passed STUN
    // integrity, so an attacker cannot flood one bucket with chosen addresses.
    std::uint64_t h = 1469598103934665603ull;
    const auto* p = e.address_bytes();
    for (std::size_t i = 0; i < e.address_size(); ++i) h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ e.port()) * 1099511628211ull;
    return static_cast<std::size_t>(h);
  }
};

}  // namespace conclave::rtc
