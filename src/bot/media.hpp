// Synthetic media for the headless client, independent of the server it talks to (our
// SFU or Janus): what a publisher sends (Opus-sized audio at 50 packets/s, VP8-shaped video
// in up to three simulcast layers with key frames periodically and on PLI/FIR) and what a
// subscriber measures and answers (one-way latency from a send-time stamp in every
// payload, loss from RTP sequence numbers, transport-wide CC feedback every 50 ms). All
// bots of a machine share CLOCK_MONOTONIC, so latency is comparable across processes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bot/client_transport.hpp"
#include "rtc/sdp.hpp"

namespace conclave::bot {

struct SenderOptions {
  bool audio = true;
  bool video = true;
  bool speaking = true;  // sends audio (speech level); false: a muted microphone
  std::vector<int> layer_kbps = {150, 500, 1500};  // q, h, f
  int fps = 30;
  std::chrono::milliseconds keyframe_interval{3000};
  std::string audio_mid = "0", video_mid = "1";
  // Header extension ids the publish offer declares.
  std::uint8_t ext_mid = 1, ext_audio_level = 4, ext_rid = 10;
  int opus_pt = 111, vp8_pt = 96;
};

class MediaSender {
 public:
  struct Layer {
    std::string rid;
    std::uint32_t ssrc = 0;
    std::uint16_t seq = 0;
    std::uint32_t payload_seq = 0;
    int kbps = 0;
    bool want_keyframe = true;
    std::chrono::steady_clock::time_point last_keyframe{};
  };

  MediaSender(boost::asio::io_context& io, SenderOptions options);
  // Starts sending on `transport` (connected).
  void start(ClientTransport& transport);
  void stop();
  // RTCP from the server on the publish connection: PLI and FIR ask for a key frame.
  void on_rtcp(std::span<std::uint8_t> packet);
  // End-to-end encryption (--e2ee): every frame goes through `protect` before it is
  // packetized (bot/e2ee_session.hpp).
  using Protect = std::function<bool(std::span<const std::uint8_t> frame, bool video,
                                     std::vector<std::uint8_t>& out)>;
  void set_protect(Protect protect) { protect_ = std::move(protect); }

  const SenderOptions& options() const { return opt_; }
  std::uint32_t audio_ssrc() const { return audio_ssrc_; }
  const std::vector<Layer>& layers() const { return layers_; }
  std::uint64_t keyframes_sent() const { return keyframes_sent_; }
  std::uint64_t keyframe_requests() const { return keyframe_requests_; }

 private:
  void tick_audio();
  void tick_video();
  void send_video_frame(Layer& l);

  boost::asio::io_context& io_;
  SenderOptions opt_;
  ClientTransport* transport_ = nullptr;
  boost::asio::steady_timer audio_timer_, video_timer_;
  std::uint32_t audio_ssrc_ = 0, audio_ts_ = 0, audio_payload_seq_ = 0;
  std::uint16_t audio_seq_ = 0;
  std::uint32_t video_ts_ = 0;
  std::uint16_t picture_id_ = 0;
  std::vector<Layer> layers_;
  std::uint64_t keyframes_sent_ = 0, keyframe_requests_ = 0;
  bool stopped_ = false;
  Protect protect_;
  std::vector<std::uint8_t> frame_, sealed_;
};

// Latency samples (µs) and counts for one received stream.
struct StreamStats {
  std::string kind;
  std::uint64_t packets = 0, bytes = 0;
  std::uint32_t first_seq = 0, last_seq = 0;  // extended RTP sequence numbers
  bool any = false;
  std::vector<std::uint32_t> latency_us;
  std::uint64_t expected() const { return any ? last_seq - first_seq + 1 : 0; }
};

class MediaReceiver {
 public:
  explicit MediaReceiver(boost::asio::io_context& io) : io_(io), timer_(io) {}
  // Starts sending transport-wide CC feedback on `transport` for extension `twcc_ext`
  // (0: none), and tells audio from video by payload type.
  void start(ClientTransport& transport, std::uint8_t twcc_ext, int opus_pt = 111);
  void stop();
  void on_rtp(std::span<std::uint8_t> packet);
  const std::map<std::uint32_t, StreamStats>& received() const { return received_; }
  // Forgets what was measured so far (the end of a warm-up).
  void reset_stats() { received_.clear(); }
  // End-to-end encryption: video frames are reassembled and opened, audio frames opened.
  using Unprotect = MediaSender::Protect;
  void set_unprotect(Unprotect unprotect) { unprotect_ = std::move(unprotect); }
  std::uint64_t frames_opened() const { return frames_opened_; }
  // Every offer the server sends: which payload types are retransmissions (RTX).
  void note_offer(const rtc::sdp::SessionDescription& offer);
  std::uint64_t retransmissions() const { return rtx_received_; }
  std::uint64_t nacks_sent() const { return nacks_sent_; }
  std::uint64_t plis_sent() const { return plis_sent_; }
  std::uint64_t frames_refused() const { return frames_refused_; }

 private:
  void send_feedback();

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  ClientTransport* transport_ = nullptr;
  int opus_pt_ = 111;
  std::map<std::uint32_t, StreamStats> received_;  // by received SSRC
  std::uint8_t twcc_ext_ = 0;
  std::uint32_t twcc_last_ = 0;
  bool twcc_any_ = false;
  std::vector<std::pair<std::uint32_t, std::int64_t>> twcc_arrivals_;
  std::uint8_t twcc_count_ = 0;
  std::uint32_t feedback_ssrc_ = 0;
  bool stopped_ = false;
  void audio(StreamStats& s, std::span<const std::uint8_t> p, std::uint64_t now);
  void read_stamp(StreamStats& s, std::span<const std::uint8_t> p, std::uint64_t now);
  Unprotect unprotect_;
  std::map<std::uint32_t, std::vector<std::uint8_t>> frames_;  // being reassembled, by SSRC
  std::vector<std::uint8_t> opened_;
  std::uint64_t frames_opened_ = 0, frames_refused_ = 0;
  // As a browser does: NACK for a gap, PLI when too much is gone, receiver reports every
  // second (RFC 4585, RFC 3550 §6.4.2).
  void send_nack(std::uint32_t ssrc, std::uint32_t from, std::uint32_t to);
  void send_reports();
  std::set<int> rtx_pts_;
  std::uint64_t rtx_received_ = 0, nacks_sent_ = 0, plis_sent_ = 0;
  int ticks_ = 0;
  struct Reported {
    std::uint64_t expected = 0, received = 0;
  };
  std::map<std::uint32_t, Reported> reported_;
};

// A browser-like publish offer for what `sender` sends: one sendonly audio section (Opus,
// our audio SSRC) and one sendonly video section (VP8 + RTX, a=rid per layer and
// a=simulcast when there are several), BUNDLE, rtcp-mux, our ICE credentials and
// fingerprint; `cname` names the stream (a=msid, a=ssrc cname). `setup` is what we say
// about the DTLS role: "actpass" as a browser says (our server then takes the DTLS server
// role), "active" for a peer that would otherwise take the client role itself (Janus).
std::string publish_offer(const MediaSender& sender, const std::string& ufrag,
                          const std::string& pwd, const std::string& fingerprint,
                          const std::string& cname, std::string_view setup = "actpass");

// The address of an ICE candidate attribute ("candidate:<foundation> <component> <transport>
// <priority> <ip> <port> typ <type> ...", with or without "a="), if it is a UDP candidate
// for component 1 (RTP, which rtcp-mux also carries). `priority` and `host` are filled when
// given.
std::optional<rtc::Endpoint> parse_candidate(std::string_view attribute,
                                             std::uint32_t* priority = nullptr,
                                             bool* host = nullptr);

// The server's ICE/DTLS parameters and its candidate, from an SDP it wrote. Of several
// a=candidate lines (Janus writes one per address it gathered) it takes a UDP candidate for
// component 1, IPv4 before IPv6, host before the other types, then the highest priority.
// Without any usable candidate: nullopt and `error`, unless `need_candidate` is false (the
// peer will trickle it; `candidate` is then left invalid).
std::optional<ClientTransport::Remote> remote_from_sdp(const std::string& text, std::string& error,
                                                       bool need_candidate = true);

// A browser-like answer to a server's offer: every section received (recvonly, or
// inactive where the offer says so), our ICE credentials and fingerprint, a=setup:active,
// the offered codecs and header extensions echoed.
std::string answer_sdp(const rtc::sdp::SessionDescription& offer, const std::string& ufrag,
                       const std::string& pwd, const std::string& fingerprint);

std::uint32_t random_u32();

}  // namespace conclave::bot
