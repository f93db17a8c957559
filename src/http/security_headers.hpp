// Headers that go on every response the server sends, errors and WebSocket handshakes
// included. The Content-Security-Policy allows only the server's own origin: the client
// must never load or send anything anywhere else (no CDN, fonts, analytics, previews).
#pragma once

#include <boost/beast/http/fields.hpp>

namespace conclave::http {

void apply_security_headers(boost::beast::http::fields& fields, bool tls);

// The exact policy, exposed for tests and docs.
extern const char* const kContentSecurityPolicy;
extern const char* const kPermissionsPolicy;

}  // namespace conclave::http
