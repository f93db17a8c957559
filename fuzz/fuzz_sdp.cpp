// Fuzzes the SDP parser and the answer writers: any text parses or fails with a typed
// error, and whatever answer is written for a parsed offer (echo or publish) parses again
// and says what was negotiated. A parsed description is also checked as an answer to a
// subscribe offer with as many sections, which must not crash either way.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rtc/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conclave::rtc::sdp;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_sdp(text);
  auto* offer = std::get_if<SessionDescription>(&parsed);
  if (!offer) return 0;
  (void)transport_of(*offer);
  const LocalTransport local{"abcd", "0123456789abcdefghijkl", "sha-256 AB", "127.0.0.1", 9};
  auto answer = write_echo_answer(*offer, local);
  if (auto* a = std::get_if<std::string>(&answer)) {
    if (!std::holds_alternative<SessionDescription>(parse_sdp(*a))) std::abort();
  }

  auto publish = answer_publish_offer(*offer, local);
  if (auto* a = std::get_if<PublishAnswer>(&publish)) {
    auto reparsed = parse_sdp(a->sdp);
    auto* d = std::get_if<SessionDescription>(&reparsed);
    if (!d || d->media.size() != offer->media.size() || a->media.size() != offer->media.size()) {
      std::abort();
    }
    for (std::size_t i = 0; i < a->media.size(); ++i) {
      const auto& n = a->media[i];
      if (n.accepted != (d->media[i].port != 0) || n.rids.size() > 3) std::abort();
      if (n.accepted && d->media[i].formats.front() != n.payload_type) std::abort();
    }
  }

  SubscribeOffer sub;
  sub.local = local;
  for (std::size_t i = 0; i < offer->media.size(); ++i) {
    const auto& m = offer->media[i];
    sub.tracks.push_back(SubscribeTrack{
        m.mid, m.kind, m.port != 0, static_cast<std::uint32_t>(i + 1),
        m.kind == "video" ? static_cast<std::uint32_t>(i + 1001) : 0, "c", "s", "t"});
  }
  (void)check_subscribe_answer(*offer, sub);
  return 0;
}
