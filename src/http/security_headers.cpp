#include "http/security_headers.hpp"

namespace conclave::http {

namespace bh = boost::beast::http;

// 'self' in connect-src also covers ws:/wss: to the same host and port (CSP Level 3).
// blob: is needed for media elements fed by MediaStreams and for the E2EE worker.
const char* const kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Only features Chromium knows: an unknown one costs a console error on every page.
const char* const kPermissionsPolicy =
    "camera=(self), microphone=(self), display-capture=(self), "
    "fullscreen=(self), geolocation=(), payment=(), usb=(), serial=(), hid=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=()";

void apply_security_headers(bh::fields& f, bool tls) {
  f.set("Content-Security-Policy", kContentSecurityPolicy);
  f.set("X-Content-Type-Options", "nosniff");
  f.set("Referrer-Policy", "no-referrer");
  f.set("Permissions-Policy", kPermissionsPolicy);
  f.set("X-Frame-Options", "DENY");
  f.set("Cross-Origin-Opener-Policy", "same-origin");
  f.set("Cross-Origin-Resource-Policy", "same-origin");
  if (tls) f.set(bh::field::strict_transport_security, "max-age=31536000");
  f.set(bh::field::server, "conclave");
}

}  // namespace conclave::http
