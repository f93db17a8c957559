// Meetings on the control thread: who is in which meeting, what they publish, what each
// receives, and the signaling requests of docs/protocol.md that change any of it. This is
// where a participant's identity is fixed (by the join its WebSocket made) and where the
// meeting-security policy (issue 7) will decide who may do what.
//
// Media lives on the workers (sfu::Engine). The Conference allocates every id, writes
// every SDP, and posts plain commands to the worker that owns the meeting's room; the
// worker posts transport, speaker and layer events back (on_event). Nothing here blocks or
// waits for a worker: a command is in the worker's queue before the reply that depends on
// it is sent, and the worker runs its queue in order.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "rtc/media_worker.hpp"
#include "rtc/sdp.hpp"
#include "sfu/engine.hpp"
#include "signal/dispatcher.hpp"
#include "signal/hub.hpp"

namespace conclave::meeting {

struct ConferenceConfig {
  std::chrono::seconds reconnect_grace{15};
  unsigned max_participants = 200;
};

// One media worker as the Conference uses it.
struct WorkerHandle {
  rtc::MediaWorker* worker;  // port, address, fingerprint, io()
  sfu::Engine* engine;       // only touched on the worker's thread
};

class Conference {
 public:
  Conference(boost::asio::io_context& io, signal::Hub& hub, std::vector<WorkerHandle> workers,
             metrics::Registry& registry, ConferenceConfig config);
  ~Conference();
  Conference(const Conference&) = delete;
  Conference& operator=(const Conference&) = delete;

  void register_handlers(signal::Dispatcher& dispatcher);
  // From the workers, already on the control thread.
  void on_event(const sfu::Event& event);
  // No new joins (the server drains); meetings in progress go on.
  void set_draining() { draining_ = true; }

  std::size_t meeting_count() const { return meetings_.size(); }

 private:
  struct Meeting;
  struct Participant;

  struct Track {
    sfu::TrackId id = 0;
    std::string wire_id;
    std::string mid;
    sfu::MediaKind kind = sfu::MediaKind::kAudio;
    sfu::Source source = sfu::Source::kMicrophone;
    bool muted = false;
    int layers = 1;
  };

  // One m-section of a participant's subscribe connection.
  struct Section {
    std::string mid;
    sfu::TrackId track = 0;
    sfu::MediaKind kind = sfu::MediaKind::kAudio;
    std::uint32_t ssrc = 0, rtx_ssrc = 0;  // 0 (and track 0): empty, a=inactive
    bool acked = false;                    // the browser has answered an offer carrying this track
    bool empty_acked = false;              // ... an offer with it empty: it may carry another track
    bool empty() const { return track == 0; }
  };

  struct Participant {
    sfu::ParticipantId id = 0;
    std::string wire_id;
    std::string name;
    Meeting* meeting = nullptr;
    std::uint64_t session = 0;  // 0 while disconnected
    std::string reconnect_token;
    std::vector<Track> tracks;
    bool speaking = false;
    // Publish connection.
    std::optional<rtc::IceLiteAgent::Credentials> publish_ice;
    std::vector<std::uint8_t> publish_fingerprint;
    bool publish_transport = false;
    std::uint32_t publish_generation = 0;
    // Subscribe connection.
    rtc::IceLiteAgent::Credentials subscribe_ice;
    std::uint64_t subscribe_session_id = 0;
    std::uint64_t offer_version = 0;
    bool offer_outstanding = false;
    bool offer_dirty = false;
    bool ice_restart_pending = false;
    std::optional<rtc::sdp::SubscribeOffer> last_offer;
    std::vector<std::uint8_t> subscribe_fingerprint;
    bool subscribe_transport = false;
    std::uint32_t subscribe_generation = 0;
    std::vector<Section> sections;
    std::uint64_t next_mid = 0;
    std::set<sfu::TrackId> unsubscribed;
    std::map<sfu::TrackId, sfu::Preference> preferences;
    std::unique_ptr<boost::asio::steady_timer> grace;
    // Request rate (token buckets): all requests; publishes; relayed bytes.
    double tokens = 100;
    std::chrono::steady_clock::time_point refilled{};
    double publish_tokens = 10;
    std::chrono::steady_clock::time_point publish_refilled{};
    double relay_bytes = 256 * 1024;
    std::chrono::steady_clock::time_point relay_refilled{};
  };

  struct Meeting {
    std::string id;
    sfu::RoomId room = 0;
    std::size_t worker = 0;
    std::vector<std::unique_ptr<Participant>> participants;  // in join order
  };

  // Requests.
  nlohmann::json join(signal::Session& session, const nlohmann::json& body);
  nlohmann::json publish(Participant& p, const nlohmann::json& body);
  nlohmann::json unpublish(Participant& p, const nlohmann::json& body);
  nlohmann::json mute(Participant& p, const nlohmann::json& body);
  nlohmann::json subscribe(Participant& p, const nlohmann::json& body);
  nlohmann::json unsubscribe(Participant& p, const nlohmann::json& body);
  nlohmann::json subscribe_answer(Participant& p, const nlohmann::json& body);
  nlohmann::json ice_restart(Participant& p, const nlohmann::json& body);
  nlohmann::json relay(Participant& p, const nlohmann::json& body);
  nlohmann::json leave(signal::Session& session, Participant& p);

  Participant& joined(signal::Session& session);
  void on_session_closed(std::uint64_t session);
  void remove(Participant& p, const char* reason);
  void announce_unpublished(Participant& p, const std::vector<Track>& gone);
  void post_published_tracks(Participant& p, const rtc::sdp::PublishAnswer& answer);

  // Subscribe connection.
  void sync_subscriptions(Participant& p);
  void send_offer_soon(Participant& p);
  void send_offer(Participant& p);
  void post_subscriptions(Participant& p);

  // Messages.
  void send(Participant& p, const nlohmann::json& event);
  void broadcast(Meeting& m, const nlohmann::json& event, const Participant* except);
  nlohmann::json describe(const Participant& p) const;
  nlohmann::json describe(const Participant& p, const Track& t) const;
  Participant* find_participant(Meeting& m, std::string_view wire_id);
  Participant* find_by_id(sfu::RoomId room, sfu::ParticipantId id);
  const Track* find_track(Meeting& m, std::string_view wire_id, Participant** owner);

  template <class Fn>
  void post_to_worker(const Meeting& m, Fn&& fn);
  rtc::sdp::LocalTransport local_transport(const Meeting& m,
                                           const rtc::IceLiteAgent::Credentials& ice,
                                           bool dtls_client) const;

  boost::asio::io_context& io_;
  signal::Hub& hub_;  // Passed by argument.
  std::vector<WorkerHandle> workers_;
  ConferenceConfig config_;
  std::map<std::string, std::unique_ptr<Meeting>, std::less<>> meetings_;
  std::map<sfu::RoomId, Meeting*> by_room_;  // worker events name rooms
  std::map<std::uint64_t, Participant*> by_session_;
  std::map<std::string, Participant*, std::less<>> by_token_;
  std::size_t next_worker_ = 0;
  bool draining_ = false;

  metrics::Gauge& meetings_gauge_;
  metrics::Gauge& participants_gauge_;
  metrics::Counter& joins_;
  metrics::Family<metrics::Counter>& leaves_;
};

// Helpers the tests and the fuzzer reach directly.
// A display name as the protocol allows it (1–64 characters after trimming, no control
// characters, valid UTF-8), trimmed; nullopt when it is not acceptable.
std::optional<std::string> normalise_display_name(std::string_view name);
// Meeting ids as the client's isMeetingId: lowercase letters, digits and single dashes,
// 3–64 characters, starting and ending with a letter or digit.
bool is_meeting_id(std::string_view id);
// "p-" / "t-" + 13 base32 characters of a random 64-bit value.
std::string wire_id(char prefix, std::uint64_t value);
std::uint64_t random_u64();

}  // namespace conclave::meeting
