#include "rtc/endpoint.hpp"

#include <arpa/inet.h>

namespace conclave::rtc {

Endpoint Endpoint::parse(const std::string& ip, std::uint16_t port) noexcept {
  Endpoint e;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    e.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    e.length = sizeof(sockaddr_in6);
  }
  return e;
}

std::uint16_t Endpoint::port() const noexcept {
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

const std::uint8_t* Endpoint::address_bytes() const noexcept {
  if (family() == AF_INET6) {
    return reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  }
  return reinterpret_cast<const std::uint8_t*>(
      &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr);
}

std::string Endpoint::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family(), address_bytes(), buf, sizeof buf);
  return buf;
}

}  // namespace conclave::rtc
