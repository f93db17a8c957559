// Fuzzes the RTP packet view (rtc/rtp): any bytes parse or give a typed error; a parsed
// packet's parts tile the buffer, every extension element lies inside the extension block,
// rebuilding the packet from what was read and parsing it again gives the same fields and
// elements, and the in-place setters change exactly the field they name. Any violation
// aborts, which libFuzzer and the CTest replay both report.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "rtc/rtp.hpp"

namespace {

using namespace conclave::rtc;

void check(bool ok) {
  if (!ok) std::abort();
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy, so that ASan sees any read or write past the packet.
  std::vector<std::uint8_t> buffer(data, data + size);
  check(!(looks_like_rtp(buffer) && looks_like_rtcp(buffer)));

  RtpError error = RtpError::kNone;
  auto packet = RtpPacket::parse(buffer, error);
  if (!packet) {
    check(error != RtpError::kNone);
    return 0;
  }
  check(error == RtpError::kNone);
  check(packet->size() == size && packet->size() <= kMaxRtpPacketSize);
  check(packet->header_size() + packet->payload().size() + packet->padding_size() == size);
  check(packet->payload().data() == buffer.data() + packet->header_size());

  // Extension elements: inside the block, ids and sizes as the form allows.
  const auto block = packet->extension_data();
  const ExtensionForm form = packet->extension_form();
  std::vector<ExtensionElement> elements;
  for (const auto& e : packet->extensions()) {
    check(e.value.data() >= block.data() &&
          e.value.data() + e.value.size() <= block.data() + block.size());
    check(e.id != 0);
    if (form == ExtensionForm::kOneByte) {
      check(e.id <= 14 && !e.value.empty() && e.value.size() <= 16);
    }
    // The first element with an id is what find_extension returns.
    const auto found = packet->find_extension(e.id);
    check(found.has_value() && found->data() <= e.value.data());
    elements.push_back({e.id, e.value});
    (void)read_transport_sequence_number(e.value);
    (void)read_abs_send_time(e.value);
    (void)read_audio_level(e.value);
    (void)read_sdes_text(e.value);
    (void)read_video_orientation(e.value);
  }
  if (form == ExtensionForm::kNone || form == ExtensionForm::kUnknown) check(elements.empty());

  // Rebuild from what was read. Other profiles have no elements to carry over, so the
  // extension is dropped there; inner padding disappears, so compare fields, not bytes.
  std::vector<std::uint32_t> csrcs;
  for (std::size_t i = 0; i < packet->csrc_count(); ++i) csrcs.push_back(packet->csrc(i));
  const RtpHeaderFields fields{
      packet->marker(),    packet->payload_type(), packet->sequence_number(),
      packet->timestamp(), packet->ssrc(),         csrcs};
  std::vector<std::uint8_t> rebuilt(kMaxRtpPacketSize);
  const auto written =
      write_rtp_packet(rebuilt, fields, elements, packet->payload(), packet->padding_size());
  check(written.ok() && written.size <= size);
  rebuilt.resize(written.size);
  const auto again = RtpPacket::parse(rebuilt);
  check(again.has_value());
  check(again->marker() == packet->marker() && again->payload_type() == packet->payload_type() &&
        again->sequence_number() == packet->sequence_number() &&
        again->timestamp() == packet->timestamp() && again->ssrc() == packet->ssrc() &&
        again->csrc_count() == packet->csrc_count() &&
        again->padding_size() == packet->padding_size());
  check(same_bytes(again->payload(), packet->payload()));
  std::size_t index = 0;
  for (const auto& e : again->extensions()) {
    check(index < elements.size() && e.id == elements[index].id &&
          same_bytes(e.value, elements[index].value));
    ++index;
  }
  check(index == elements.size());

  // Setters on the original buffer touch only their field.
  const std::vector<std::uint8_t> before = buffer;
  packet->set_ssrc(~packet->ssrc());
  packet->set_sequence_number(static_cast<std::uint16_t>(packet->sequence_number() + 1));
  packet->set_timestamp(packet->timestamp() + 3000);
  packet->set_payload_type(static_cast<std::uint8_t>(packet->payload_type() ^ 0x55));
  packet->set_marker(!packet->marker());
  check(std::memcmp(buffer.data() + 12, before.data() + 12, size - 12) == 0);
  check((buffer[0] == before[0]) && buffer[1] == (before[1] ^ 0xD5));
  if (!elements.empty()) {
    const auto first = packet->find_extension(elements.front().id);
    std::vector<std::uint8_t> value(first->begin(), first->end());
    check(packet->set_extension(elements.front().id, value));
  }
  const auto reparsed = RtpPacket::parse(buffer);
  check(reparsed.has_value() && reparsed->header_size() == packet->header_size());

  // The sequence number went up by one, across the wrap too.
  SequenceUnwrapper unwrapper;
  const std::int64_t a = unwrapper.unwrap(static_cast<std::uint16_t>((before[2] << 8) | before[3]));
  const std::int64_t b = unwrapper.unwrap(packet->sequence_number());
  check(b - a == 1 && seq_newer(packet->sequence_number(), static_cast<std::uint16_t>(a)));
  return 0;
}
