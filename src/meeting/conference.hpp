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
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/attempt_limiter.hpp"
#include "common/metrics.hpp"
#include "meeting/policy.hpp"
#include "rtc/media_worker.hpp"
#include "rtc/sdp.hpp"
#include "sfu/engine.hpp"
#include "signal/dispatcher.hpp"
#include "signal/hub.hpp"
#include "store/store.hpp"

namespace conclave::meeting {

// Who may create meetings (meeting.create).
enum class CreatePolicy { kAccounts, kAnyone };

struct ConferenceConfig {
  std::chrono::seconds reconnect_grace{15};
  unsigned max_participants = 200;
  CreatePolicy create = CreatePolicy::kAccounts;
  // docs/protocol.md, "Attempt limits".
  // Generous: a whole office behind one NAT address joins the same meeting at 9:00.
  AttemptLimiter::Limits joins_per_address{.free = 100, .window = std::chrono::seconds(60)};
  AttemptLimiter::Limits passcode_failures_per_address{.free = 5};
  AttemptLimiter::Limits passcode_failures_per_meeting{.free = 50};
};

// The signed-in user behind a request, as auth/ resolves a session cookie.
struct SignedIn {
  std::int64_t account = 0;
  std::string email;  // lowercase
  std::string name;
};
// Resolves the Cookie header of a request (the WebSocket upgrade, or an HTTP API call) to
// the signed-in user, or nullopt. Runs on the control thread, synchronously.
using WhoIsSignedIn = std::function<std::optional<SignedIn>(std::string_view cookie_header)>;

// The answer to an HTTP API request about meetings (docs/api.md): a status and a JSON body
// (null for 204). auth/'s API layer turns it into the response.
struct ApiResult {
  int status = 200;
  nlohmann::json body;
};

// One media worker as the Conference uses it.
struct WorkerHandle {
  rtc::MediaWorker* worker;  // port, address, fingerprint, io()
  sfu::Engine* engine;       // only touched on the worker's thread
};

class Conference {
 public:
  Conference(boost::asio::io_context& io, signal::Hub& hub, std::vector<WorkerHandle> workers,
             metrics::Registry& registry, ConferenceConfig config, store::Store& store,
             WhoIsSignedIn who);
  ~Conference();
  Conference(const Conference&) = delete;
  Conference& operator=(const Conference&) = delete;

  void register_handlers(signal::Dispatcher& dispatcher);
  // From the workers, already on the control thread.
  void on_event(const sfu::Event& event);
  // No new joins (the server drains); meetings in progress go on.
  void set_draining() { draining_ = true; }

  std::size_t meeting_count() const { return meetings_.size(); }
  // Ids of the meetings running now (retention keeps them).
  std::vector<std::string> live_meeting_ids() const {
    std::vector<std::string> ids;
    for (const auto& [id, m] : meetings_) ids.push_back(id);
    return ids;
  }

  // The meeting routes of docs/api.md. `who` is the signed-in caller, if any; the API layer
  // has already checked CSRF and parsed `body` as a JSON object.
  ApiResult api_create_meeting(const std::optional<SignedIn>& who, const nlohmann::json& body);
  ApiResult api_list_meetings(const SignedIn& who);
  ApiResult api_update_meeting(const SignedIn& who, std::string_view id,
                               const nlohmann::json& body);
  ApiResult api_new_passcode(const SignedIn& who, std::string_view id);
  ApiResult api_delete_meeting(const SignedIn& who, std::string_view id);

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
    bool blocked = false;  // a host muted it: the worker forwards none of it
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
    // Meeting security.
    Role role = Role::kParticipant;
    bool admitted = false;      // false: in the waiting room (Meeting::waiting)
    bool host_absent = false;   // waiting because no host is there yet
    bool host_capable = false;  // the owner, or joined with the host key
    std::optional<SignedIn> account;
    std::string device;              // for bans; may be empty
    std::int64_t waiting_since = 0;  // unix seconds
    bool host_muted_audio = false;   // new microphone tracks start muted and blocked
    bool unmute_allowed = false;     // a host asked: may unmute once though unmute_self is off
    std::vector<Track> tracks;
    bool speaking = false;
    bool hidden = false;  // a ghost made by the test server (meeting/test_hooks.hpp)
    // The account's published E2EE identity keys (base64url), read at join: the others pin
    // them (docs/e2ee.md, "Trust on first use").
    std::vector<std::string> device_keys;
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
    std::vector<std::unique_ptr<Participant>> participants;  // admitted, in admission order
    std::vector<std::unique_ptr<Participant>> waiting;       // in arrival order
    // From the store, kept current while the meeting runs.
    std::optional<std::int64_t> owner;
    std::string passcode_hash;
    std::string host_key_hash;
    Settings settings;
    std::string spotlight;  // participant wire id, or empty
    std::set<std::int64_t> banned_accounts;
    std::set<std::string, std::less<>> banned_devices;
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
  // Host requests (docs/protocol.md, "Host requests").
  nlohmann::json admit(Participant& p, const nlohmann::json& body);
  nlohmann::json deny(Participant& p, const nlohmann::json& body);
  nlohmann::json remove_request(Participant& p, const nlohmann::json& body);
  nlohmann::json mute_participant(Participant& p, const nlohmann::json& body);
  nlohmann::json mute_all(Participant& p, const nlohmann::json& body);
  nlohmann::json ask_unmute(Participant& p, const nlohmann::json& body);
  nlohmann::json stop_video(Participant& p, const nlohmann::json& body);
  nlohmann::json spotlight(Participant& p, const nlohmann::json& body);
  nlohmann::json set_settings(Participant& p, const nlohmann::json& body);
  nlohmann::json set_role(Participant& p, const nlohmann::json& body);
  nlohmann::json transfer_host(Participant& p, const nlohmann::json& body);
  nlohmann::json end_meeting(Participant& p, const nlohmann::json& body);
  nlohmann::json rename(Participant& p, const nlohmann::json& body);

  nlohmann::json join_new(signal::Session& session, const nlohmann::json& body,
                          const std::string& meeting_id, const std::string& name);
  nlohmann::json join_result(Participant& p, bool resumed);
  Meeting& open_meeting(const store::MeetingRecord& record);
  void admit_now(Participant& p, bool tell);
  void after_host_arrived(Meeting& m);
  void hand_over_host(Meeting& m);
  void notify_waiting(Meeting& m);
  nlohmann::json waiting_list(const Meeting& m) const;
  void close_session(Participant& p, const char* reason, unsigned short code);
  void end(Meeting& m, const char* reason);
  void mute_by_host(Participant& by, Participant& target, sfu::Source source);
  void block_track(Participant& owner, Track& t, bool blocked);
  void save_settings(const Meeting& m);
  Participant& target_of(Participant& p, const nlohmann::json& body, bool waiting_too = false);

  Participant& joined(signal::Session& session);
  void on_session_closed(std::uint64_t session);
  // `quiet`: nobody is told (the meeting ends for everyone at once).
  void remove(Participant& p, const char* reason, bool quiet = false);
  void announce_unpublished(Participant& p, const std::vector<Track>& gone);
  void post_published_tracks(Participant& p, const rtc::sdp::PublishAnswer& answer);

  // Subscribe connection.
  void sync_subscriptions(Participant& p);
  void send_offer_soon(Participant& p);
  void send_offer(Participant& p);
  void post_subscriptions(Participant& p);

  // Messages.
  // Queues `text` on a session; for the session whose request is being handled, after the
  // reply (posted).
  void deliver(std::uint64_t session, std::string text);
  void send(Participant& p, const nlohmann::json& event);
  // Marks the session whose request is being handled, for the length of a handler.
  struct Requester {
    Requester(std::uint64_t& slot, std::uint64_t id) : slot_(slot) { slot_ = id; }
    ~Requester() { slot_ = 0; }
    Requester(const Requester&) = delete;
    Requester& operator=(const Requester&) = delete;
    std::uint64_t& slot_;
  };
  void broadcast(Meeting& m, const nlohmann::json& event, const Participant* except);
  nlohmann::json describe(const Participant& p) const;
  nlohmann::json describe(const Participant& p, const Track& t) const;
  Participant* find_participant(Meeting& m, std::string_view wire_id);
  Participant* find_by_id(sfu::RoomId room, sfu::ParticipantId id);  // admitted or waiting
  Participant* find_waiting(Meeting& m, std::string_view wire_id);
  bool host_present(const Meeting& m) const;
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
  std::uint64_t requester_ = 0;  // session whose request is being handled, else 0
  store::Store& store_;          // Passed by argument.
  WhoIsSignedIn who_;
  AttemptLimiter joins_per_address_;
  AttemptLimiter failures_per_address_;
  AttemptLimiter failures_per_meeting_;

  metrics::Gauge& meetings_gauge_;
  metrics::Gauge& participants_gauge_;
  metrics::Counter& joins_;
  metrics::Family<metrics::Counter>& leaves_;
  metrics::Family<metrics::Counter>& attempts_;
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
