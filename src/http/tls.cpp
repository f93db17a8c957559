#include "http/tls.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/startup_error.hpp"

namespace conclave::http {

namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

File open_readable(const std::filesystem::path& path, const char* what) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    throw StartupError(
        fmt::format("cannot read TLS {} {}: {}", what, path.string(), std::strerror(errno)));
  }
  return f;
}

// True when the certificate at `path` parses and stays valid for at least `days` more.
bool still_valid(const std::filesystem::path& path, int days) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return false;
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return false;
  const time_t horizon = time(nullptr) + static_cast<time_t>(days) * 86400;
  return X509_cmp_time(X509_get0_notAfter(cert.get()), const_cast<time_t*>(&horizon)) > 0;
}

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw StartupError("cannot build certificate extension: " + openssl_error());
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

std::unique_ptr<ssl::context> make_tls_context(const std::filesystem::path& cert,
                                               const std::filesystem::path& key) {
  // Open both first so that an unreadable file gets the errno message, not OpenSSL's.
  open_readable(cert, "certificate");
  open_readable(key, "key");
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::single_dh_use);
  if (SSL_CTX_use_certificate_chain_file(ctx->native_handle(), cert.c_str()) != 1) {
    throw StartupError(
        fmt::format("cannot use TLS certificate {}: {}", cert.string(), openssl_error()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx->native_handle(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw StartupError(fmt::format("cannot use TLS key {}: {}", key.string(), openssl_error()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw StartupError(
        fmt::format("TLS key {} does not match certificate {}", key.string(), cert.string()));
  }
  return ctx;
}

CertificatePaths ensure_self_signed(const std::filesystem::path& dir,
                                    const std::vector<std::string>& dns_names,
                                    const std::vector<std::string>& ip_addresses) {
  CertificatePaths paths{dir / "cert.pem", dir / "key.pem", false};
  std::error_code ec;
  if (std::filesystem::exists(paths.key, ec) && still_valid(paths.cert, 30)) return paths;

  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw StartupError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(EVP_EC_gen("P-256"));
  if (!pkey) throw StartupError("cannot generate TLS key: " + openssl_error());
  std::unique_ptr<X509, X509Free> cert(X509_new());
  X509_set_version(cert.get(), 2);  // v3, for subjectAltName
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 86400);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Conclave (self-signed)"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  add_extension(cert.get(), NID_subject_alt_name, san);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) == 0) {
    throw StartupError("cannot sign TLS certificate: " + openssl_error());
  }

  // The key is written to a fresh 0600 file, then renamed over the old one.
  const auto key_tmp = paths.key.string() + ".tmp";
  ::unlink(key_tmp.c_str());
  const int fd = ::open(key_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StartupError(fmt::format("cannot write {}: {}", key_tmp, std::strerror(errno)));
  }
  File key_file(fdopen(fd, "wb"));
  if (!key_file || PEM_write_PrivateKey(key_file.get(), pkey.get(), nullptr, nullptr, 0, nullptr,
                                        nullptr) != 1) {
    throw StartupError(fmt::format("cannot write {}: {}", key_tmp, openssl_error()));
  }
  key_file.reset();
  const auto cert_tmp = paths.cert.string() + ".tmp";
  File cert_file(std::fopen(cert_tmp.c_str(), "wb"));
  if (!cert_file || PEM_write_X509(cert_file.get(), cert.get()) != 1) {
    throw StartupError(fmt::format("cannot write {}: {}", cert_tmp, std::strerror(errno)));
  }
  cert_file.reset();
  std::filesystem::rename(key_tmp, paths.key, ec);
  if (!ec) std::filesystem::rename(cert_tmp, paths.cert, ec);
  if (ec)
    throw StartupError(fmt::format("cannot store TLS files in {}: {}", dir.string(), ec.message()));
  paths.generated = true;
  return paths;
}

}  // namespace conclave::http
