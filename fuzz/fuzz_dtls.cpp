// Fuzzes the DTLS receive path as the worker's demux feeds it: the input is cut into
// datagrams (each prefixed by one length byte) and given to a fresh server-role
// DtlsTransport, then to a client-role one. Whatever arrives, the transport must end in a
// defined state without crashing, and never report keys it did not negotiate.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "rtc/dtls.hpp"

namespace {

using namespace conclave::rtc;

struct NullListener final : DtlsTransport::Listener {
  void on_dtls_send(std::span<const std::uint8_t>) override {}
  void on_dtls_connected(SrtpProfile, const SrtpKeyPair&) override { connected = true; }
  void on_dtls_failed(DtlsTransport::Failure) override {}
  void on_dtls_closed() override {}
  bool connected = false;
};

const DtlsCertificate& certificate() {
  static const DtlsCertificate cert = DtlsCertificate::generate();
  return cert;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  DtlsFingerprint remote;  // matches nothing: a handshake can never complete
  remote.size = 32;
  for (const auto role : {DtlsRole::kServer, DtlsRole::kClient}) {
    NullListener listener;
    DtlsTransport transport(certificate(), role, remote, listener);
    transport.start();
    std::span<const std::uint8_t> rest(data, size);
    while (!rest.empty()) {
      const std::size_t n = std::min<std::size_t>(rest[0], rest.size() - 1);
      (void)transport.receive(rest.subspan(1, n));
      rest = rest.subspan(1 + n);
      transport.on_timeout();
    }
    if (listener.connected) std::abort();  // fuzz input cannot carry our peer's certificate
    transport.close();
  }
  return 0;
}
