// TLS for the HTTP listener (not DTLS for media, which lives in rtc/). Either files the
// operator gives, or a self-signed certificate generated once and kept under the data
// directory, for LAN trials where browsers need a secure context for the camera.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace conclave::http {

// A server context (TLS 1.2+) from PEM files. Throws StartupError naming the file.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key);

struct CertificatePaths {
  std::filesystem::path cert;
  std::filesystem::path key;
  bool generated = false;  // false: an existing, still valid pair was reused
};

// Makes sure `dir` holds cert.pem and key.pem (ECDSA P-256, one year, SAN for every name
// and IP given), regenerating them when missing or expiring within 30 days. The key is
// written with mode 0600. Throws StartupError.
CertificatePaths ensure_self_signed(const std::filesystem::path& dir,
                                    const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses);

}  // namespace conclave::http
