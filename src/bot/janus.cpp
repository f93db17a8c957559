#include "bot/janus.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <span>
#include <utility>

#include "rtc/sdp.hpp"

namespace conclave::bot {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kKeepalive = 25s;  // Janus's session_timeout is 60 s
constexpr auto kJoinRetry = 100ms;
constexpr int kMaxJoinAttempts = 100;  // 10 s for the first bot to create the room
// VideoRoom's error codes (janus_videoroom.c).
constexpr int kNoSuchRoom = 426;
constexpr int kRoomExists = 427;

// CONCLAVE_BOT_JANUS_DEBUG=1 prints every message to and from Janus on stderr.
bool debug() {
  static const bool on = [] {
    const char* v = std::getenv("CONCLAVE_BOT_JANUS_DEBUG");
    return v && *v && *v != '0';
  }();
  return on;
}

const json& member(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  const auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::uint64_t id_of(const json& j) {
  return j.is_number_unsigned()  ? j.get<std::uint64_t>()
         : j.is_number_integer() ? static_cast<std::uint64_t>(j.get<std::int64_t>())
                                 : 0;
}

std::string string_of(const json& j) {
  return j.is_string() ? j.get<std::string>() : std::string();
}

}  // namespace

// The Janus API over one WebSocket (subprotocol janus-protocol): requests with
// transaction ids and their answers; everything else (events, webrtcup, hangup,
// trickle...) goes to the message handler. Writes are queued (Beast allows one at a time).
class JanusConnection {
 public:
  using Handler = std::function<void(const json&)>;

  JanusConnection(boost::asio::io_context& io, std::string host, std::uint16_t port,
                  std::string path)
      : host_(std::move(host)), port_(port), path_(std::move(path)), ws_(io) {}

  void connect(std::function<void(bool, std::string)> done) {
    boost::system::error_code bad;
    const auto address = boost::asio::ip::make_address(host_, bad);
    if (bad) return done(false, "not an IP address: " + host_);
    ws_.next_layer().async_connect(
        tcp::endpoint(address, port_), [this, done](const boost::system::error_code& ec) {
          if (ec) return done(false, "connect: " + ec.message());
          ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, "janus-protocol");
            req.set(beast::http::field::user_agent, "conclave-bot");
          }));
          ws_.async_handshake(host_ + ":" + std::to_string(port_), path_,
                              [this, done](const boost::system::error_code& hs) {
                                if (hs) return done(false, "handshake: " + hs.message());
                                open_ = true;
                                ws_.text(true);
                                read_loop();
                                done(true, {});
                              });
        });
  }

  // Sends `msg` with a new transaction. `reply` gets Janus's answer to it: "success" or
  // "error", or "ack" when `until_event` is false. A plugin message (`until_event`) is
  // acknowledged first and answered later by the plugin's "event" (or at once by
  // "success" for a synchronous request): `reply` gets that, never the ack.
  void send(json msg, bool until_event, Handler reply) {
    const auto transaction = "t" + std::to_string(next_transaction_++);
    msg["transaction"] = transaction;
    pending_[transaction] = Pending{until_event, std::move(reply)};
    outbox_.push_back(msg.dump());
    if (debug()) std::cerr << "janus> " << outbox_.back() << "\n";
    write_next();
  }

  void on_message(Handler handler) { on_message_ = std::move(handler); }
  void on_closed(std::function<void()> handler) { on_closed_ = std::move(handler); }

  void close() {
    if (!open_) return;
    open_ = false;
    boost::system::error_code ec;
    ws_.next_layer().close(ec);
  }

 private:
  struct Pending {
    bool until_event = false;
    Handler reply;
  };

  void write_next() {
    if (writing_ || outbox_.empty() || !open_) return;
    writing_ = true;
    ws_.async_write(boost::asio::buffer(outbox_.front()),
                    [this](const boost::system::error_code& ec, std::size_t) {
                      writing_ = false;
                      outbox_.pop_front();
                      if (ec) return;
                      write_next();
                    });
  }

  void read_loop() {
    ws_.async_read(buffer_, [this](const boost::system::error_code& ec, std::size_t) {
      if (ec) {
        open_ = false;
        pending_.clear();
        if (on_closed_) on_closed_();
        return;
      }
      const auto text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      if (debug()) std::cerr << "janus< " << text << "\n";
      const auto msg = json::parse(text, nullptr, false);
      if (msg.is_object()) dispatch(msg);
      read_loop();
    });
  }

  void dispatch(const json& msg) {
    const auto kind = string_of(member(msg, "janus"));
    const auto it = pending_.find(string_of(member(msg, "transaction")));
    if (it != pending_.end()) {
      if (kind == "ack" && it->second.until_event) return;  // the event follows
      auto reply = std::move(it->second.reply);
      pending_.erase(it);
      if (reply) reply(msg);
      return;
    }
    if (kind == "ack") return;  // a late ack of a message already answered
    if (on_message_) on_message_(msg);
  }

  std::string host_;
  std::uint16_t port_;
  std::string path_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false, open_ = false;
  std::uint64_t next_transaction_ = 1;
  std::map<std::string, Pending> pending_;
  Handler on_message_;
  std::function<void()> on_closed_;
};

bool parse_janus_url(const std::string& url, JanusOptions& out, std::string& error) {
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) {
    error = "the Janus URL must look like ws://10.255.255.1:8188";
    return false;
  }
  const auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "the Janus URL needs an IP address and a port: ws://10.255.255.1:8188";
    return false;
  }
  out.host = authority.substr(0, colon);
  const auto port = authority.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
      std::stoi(port) > 65535) {
    error = "bad port in the Janus URL: " + port;
    return false;
  }
  out.port = static_cast<std::uint16_t>(std::stoi(port));
  boost::system::error_code bad;
  boost::asio::ip::make_address(out.host, bad);
  if (bad) {
    error = "the Janus URL must name an IP address: " + out.host;
    return false;
  }
  return true;
}

JanusParticipant::JanusParticipant(boost::asio::io_context& io,
                                   const rtc::DtlsCertificate& certificate, BotOptions options,
                                   JanusOptions janus, int index)
    : io_(io),
      certificate_(certificate),
      opt_(std::move(options)),
      janus_(std::move(janus)),
      index_(index),
      keepalive_timer_(io),
      retry_timer_(io),
      sender_(io, opt_.media),
      receiver_(io) {}

JanusParticipant::~JanusParticipant() {
  stop();
}

void JanusParticipant::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  stop();
}

void JanusParticipant::stop() {
  if (stopped_) return;
  stopped_ = true;
  keepalive_timer_.cancel();
  retry_timer_.cancel();
  sender_.stop();
  receiver_.stop();
  if (pub_) pub_->close();
  if (sub_) sub_->close();
  if (conn_) conn_->close();
}

void JanusParticipant::start() {
  started_ = Clock::now();
  conn_ = std::make_unique<JanusConnection>(io_, janus_.host, janus_.port, janus_.path);
  conn_->on_message([this](const json& m) {
    if (!stopped_) on_event(m);
  });
  conn_->on_closed([this] {
    if (!stopped_) fail("Janus connection closed");
  });
  conn_->connect([this](bool ok, std::string err) {
    if (stopped_) return;
    if (!ok) return fail("Janus: " + err);
    conn_->send({{"janus", "create"}}, false, [this](const json& r) {
      if (stopped_) return;
      session_ = id_of(member(member(r, "data"), "id"));
      if (string_of(member(r, "janus")) != "success" || session_ == 0)
        return fail("Janus create: " + r.dump());
      keepalive();
      attach([this](std::uint64_t handle) {
        room_handle_ = handle;
        if (janus_.create_room) {
          create_room();
        } else {
          join_room();
        }
      });
    });
  });
}

void JanusParticipant::keepalive() {
  keepalive_timer_.expires_after(kKeepalive);
  keepalive_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    conn_->send({{"janus", "keepalive"}, {"session_id", session_}}, false, [this](const json& r) {
      if (!stopped_ && string_of(member(r, "janus")) == "error")
        fail("Janus keepalive: " + r.dump());
    });
    keepalive();
  });
}

void JanusParticipant::attach(std::function<void(std::uint64_t)> done) {
  conn_->send({{"janus", "attach"}, {"session_id", session_}, {"plugin", "janus.plugin.videoroom"}},
              false, [this, done = std::move(done)](const json& r) {
                if (stopped_) return;
                const auto handle = id_of(member(member(r, "data"), "id"));
                if (string_of(member(r, "janus")) != "success" || handle == 0)
                  return fail("Janus attach: " + r.dump());
                done(handle);
              });
}

void JanusParticipant::message(std::uint64_t handle, json body, const json* jsep,
                               std::function<void(const json& data, const json* jsep)> done,
                               std::function<bool(int code, const std::string& reason)> on_error) {
  const auto what = "VideoRoom " + string_of(member(body, "request"));
  json m{{"janus", "message"}, {"session_id", session_}, {"handle_id", handle}, {"body", body}};
  if (jsep) m["jsep"] = *jsep;
  conn_->send(std::move(m), true,
              [this, what, done = std::move(done), on_error = std::move(on_error)](const json& r) {
                if (stopped_) return;
                int code = 0;
                std::string reason;
                const auto& data = member(member(r, "plugindata"), "data");
                if (string_of(member(r, "janus")) == "error") {
                  const auto& e = member(r, "error");
                  code = static_cast<int>(id_of(member(e, "code")));
                  reason = string_of(member(e, "reason"));
                } else if (!data.is_object()) {
                  code = -1;
                  reason = "no plugin data in " + r.dump();
                } else if (data.contains("error_code") || data.contains("error")) {
                  code = static_cast<int>(id_of(member(data, "error_code")));
                  if (code == 0) code = -1;
                  reason = string_of(member(data, "error"));
                }
                if (code != 0) {
                  if (on_error && on_error(code, reason)) return;
                  return fail(what + ": " + std::to_string(code) + " " + reason);
                }
                const auto& js = member(r, "jsep");
                done(data, js.is_object() ? &js : nullptr);
              });
}

// Our host candidate, then the end of candidates: Janus (a full ICE agent) can check us
// at once instead of waiting for a peer-reflexive candidate from our own checks.
void JanusParticipant::trickle_local(std::uint64_t handle, const ClientTransport& transport,
                                     const std::string& mid) {
  const std::string candidate = "candidate:1 1 udp 2130706431 " + opt_.bind + " " +
                                std::to_string(transport.port()) + " typ host";
  const json candidates = json::array(
      {{{"sdpMid", mid}, {"sdpMLineIndex", 0}, {"candidate", candidate}}, {{"completed", true}}});
  conn_->send({{"janus", "trickle"},
               {"session_id", session_},
               {"handle_id", handle},
               {"candidates", candidates}},
              false, [this](const json& r) {
                if (!stopped_ && string_of(member(r, "janus")) == "error")
                  fail("Janus trickle: " + r.dump());
              });
}

void JanusParticipant::create_room() {
  json body{{"request", "create"},
            {"room", janus_.room},
            {"description", "conclave-bot"},
            {"publishers", janus_.room_publishers},
            {"videocodec", "vp8"},
            {"audiocodec", "opus"},
            {"permanent", false}};
  if (janus_.room_bitrate > 0) body["bitrate"] = janus_.room_bitrate;
  message(
      room_handle_, body, nullptr, [this](const json&, const json*) { join_room(); },
      [this](int code, const std::string&) {
        if (code != kRoomExists) return false;
        // Made by an earlier run, maybe for fewer publishers: make it large enough.
        message(room_handle_, {{"request", "list"}}, nullptr,
                [this](const json& data, const json*) {
                  int publishers = 0, bitrate = 0;
                  for (const auto& r : member(data, "list"))
                    if (id_of(member(r, "room")) == janus_.room) {
                      publishers = static_cast<int>(id_of(member(r, "max_publishers")));
                      bitrate = static_cast<int>(id_of(member(r, "bitrate")));
                    }
                  if (publishers >= janus_.room_publishers && bitrate >= janus_.room_bitrate)
                    return join_room();
                  json edit{{"request", "edit"},
                            {"room", janus_.room},
                            {"new_publishers", std::max(publishers, janus_.room_publishers)}};
                  if (janus_.room_bitrate > bitrate) edit["new_bitrate"] = janus_.room_bitrate;
                  message(room_handle_, edit, nullptr,
                          [this](const json&, const json*) { join_room(); });
                });
        return true;
      });
}

void JanusParticipant::join_room() {
  ++join_attempts_;
  message(
      room_handle_,
      {{"request", "join"}, {"ptype", "publisher"}, {"room", janus_.room}, {"display", opt_.name}},
      nullptr, [this](const json& data, const json*) { on_joined(data); },
      [this](int code, const std::string&) {
        // The first bot may not have created the room yet.
        if (code != kNoSuchRoom || join_attempts_ >= kMaxJoinAttempts) return false;
        retry_timer_.expires_after(kJoinRetry);
        retry_timer_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec && !stopped_) join_room();
        });
        return true;
      });
}

void JanusParticipant::on_joined(const json& data) {
  my_id_ = id_of(member(data, "id"));
  private_id_ = id_of(member(data, "private_id"));
  add_feeds(member(data, "publishers"));
  publish();
}

void JanusParticipant::publish() {
  const auto& m = opt_.media;
  if (!m.audio && !m.video) return;
  pub_ = std::make_unique<ClientTransport>(
      io_, certificate_,
      ClientTransport::Callbacks{
          [this](ClientTransport::State s) {
            if (s == ClientTransport::State::kFailed) return fail("publish connection failed");
            if (s != ClientTransport::State::kConnected) return;
            join_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
            sender_.start(*pub_);
          },
          nullptr, [this](std::span<std::uint8_t> p) { sender_.on_rtcp(p); }});
  std::string err;
  if (!pub_->open(opt_.bind, err)) return fail(err);
  // a=setup:active: Janus answers an actpass offer by taking the DTLS client role itself,
  // and ClientTransport is always the client. Our rids are low to high (q, h, f), Janus
  // assumes high to low unless told.
  const json jsep{
      {"type", "offer"},
      {"sdp", publish_offer(sender_, pub_->ufrag(), pub_->pwd(), certificate_.sdp_fingerprint(),
                            "bot-" + std::to_string(index_), "active")},
      {"rid_order", "lmh"}};
  message(room_handle_, {{"request", "configure"}, {"audio", m.audio}, {"video", m.video}}, &jsep,
          [this](const json&, const json* answer) {
            if (!answer || string_of(member(*answer, "type")) != "answer")
              return fail("VideoRoom configure: no answer");
            std::string error;
            auto remote = remote_from_sdp(string_of(member(*answer, "sdp")), error, false);
            if (!remote) return fail("Janus's answer: " + error);
            if (remote->candidate.valid()) {
              pub_->connect(std::move(*remote));
            } else {
              pub_remote_ = std::move(remote);  // its candidates come by trickle
            }
          });
  trickle_local(room_handle_, *pub_, m.audio ? m.audio_mid : m.video_mid);
}

void JanusParticipant::add_feeds(const json& publishers) {
  if (!opt_.subscribe || !publishers.is_array()) return;
  for (const auto& p : publishers) {
    const auto id = id_of(member(p, "id"));
    if (id == 0 || id == my_id_ || member(p, "dummy").is_boolean()) continue;
    // As many as our server would forward (its subscribe offers stop at 64 sections, and
    // so does our SDP parser): the first feeds announced.
    if (feeds_.size() >= rtc::sdp::kMaxMediaSections - 1 && !feeds_.count(id)) continue;
    if (feeds_.insert(id).second) pending_feeds_.push_back(id);
  }
  subscribe_pending();
}

void JanusParticipant::subscribe_pending() {
  if (pending_feeds_.empty() || sub_state_ == SubState::kJoining) return;
  json streams = json::array();
  for (const auto id : pending_feeds_) streams.push_back({{"feed", id}});
  pending_feeds_.clear();
  if (sub_state_ == SubState::kReady) {
    // Janus sends the new offer with "updated", or later on its own when an earlier offer
    // is still unanswered ("updating"); on_event answers that one.
    message(
        sub_handle_, {{"request", "update"}, {"subscribe", streams}}, nullptr,
        [this](const json&, const json* offer) {
          if (offer) on_subscribe_offer(*offer);
        },
        [this, streams](int code, const std::string& reason) {
          // 428: one of the feeds is gone (or not configured yet) by the time the update
          // arrives: subscribe to the others, and to that one when it is announced again.
          if (code != 428) return false;
          const auto open = reason.find('('), close = reason.find(')');
          std::uint64_t gone = 0;
          if (open != std::string::npos && close != std::string::npos && close > open + 1)
            gone = std::strtoull(reason.substr(open + 1, close - open - 1).c_str(), nullptr, 10);
          if (gone == 0) return false;
          feeds_.erase(gone);
          for (const auto& st : streams) {
            const auto id = st.value("feed", std::uint64_t{0});
            if (id != gone) pending_feeds_.push_back(id);
          }
          subscribe_pending();
          return true;
        });
    return;
  }
  sub_state_ = SubState::kJoining;
  attach([this, streams](std::uint64_t handle) {
    sub_handle_ = handle;
    json body{
        {"request", "join"}, {"ptype", "subscriber"}, {"room", janus_.room}, {"streams", streams}};
    if (private_id_) body["private_id"] = private_id_;
    message(sub_handle_, body, nullptr, [this](const json&, const json* offer) {
      if (!offer) return fail("VideoRoom subscribe: no offer");
      on_subscribe_offer(*offer);
      sub_state_ = SubState::kReady;
      subscribe_pending();
    });
  });
}

void JanusParticipant::on_subscribe_offer(const json& jsep) {
  if (string_of(member(jsep, "type")) != "offer") return;
  const auto text = string_of(member(jsep, "sdp"));
  auto parsed = rtc::sdp::parse_sdp(text);
  if (const auto* e = std::get_if<rtc::sdp::ParseError>(&parsed))
    return fail("Janus's subscribe offer, line " + std::to_string(e->line) + ": " + e->message);
  const auto& sd = std::get<rtc::sdp::SessionDescription>(parsed);
  const bool fresh = !sub_;
  if (fresh) {
    sub_ = std::make_unique<ClientTransport>(
        io_, certificate_,
        ClientTransport::Callbacks{[this](ClientTransport::State s) {
                                     if (s == ClientTransport::State::kFailed)
                                       fail("subscribe connection failed");
                                   },
                                   [this](std::span<std::uint8_t> p) { receiver_.on_rtp(p); },
                                   nullptr});
    std::string err;
    if (!sub_->open(opt_.bind, err)) return fail(err);
  }
  const json answer{
      {"type", "answer"},
      {"sdp", answer_sdp(sd, sub_->ufrag(), sub_->pwd(), certificate_.sdp_fingerprint())}};
  message(sub_handle_, {{"request", "start"}}, &answer, [](const json&, const json*) {});
  receiver_.note_offer(sd);
  if (!fresh) return;  // a renegotiation: same transport, more (or fewer) streams
  trickle_local(sub_handle_, *sub_, sd.media.empty() ? std::string("0") : sd.media[0].mid);
  std::string error;
  auto remote = remote_from_sdp(text, error, false);
  if (!remote) return fail("Janus's subscribe offer: " + error);
  std::uint8_t twcc = 0;
  int opus_pt = opt_.media.opus_pt;
  for (const auto& m : sd.media) {
    for (const auto& x : m.extensions)
      if (x.uri.find("transport-wide-cc") != std::string::npos)
        twcc = static_cast<std::uint8_t>(x.id);
    if (m.kind == "audio")
      if (const auto* c = m.find_codec("opus", 48000)) opus_pt = c->payload_type;
  }
  receiver_.start(*sub_, twcc, opus_pt);
  if (remote->candidate.valid()) {
    sub_->connect(std::move(*remote));
  } else {
    sub_remote_ = std::move(remote);
  }
}

void JanusParticipant::on_trickle(std::uint64_t handle, const json& candidate) {
  if (member(candidate, "completed").is_boolean()) return;
  const auto ep = parse_candidate(string_of(member(candidate, "candidate")));
  if (!ep || ep->family() != AF_INET || handle == 0) return;
  if (handle != room_handle_ && handle != sub_handle_) return;
  auto& remote = handle == room_handle_ ? pub_remote_ : sub_remote_;
  auto* transport = handle == room_handle_ ? pub_.get() : sub_.get();
  if (!remote || !transport) return;
  remote->candidate = *ep;
  transport->connect(std::move(*remote));
  remote.reset();
}

void JanusParticipant::on_event(const json& msg) {
  const auto kind = string_of(member(msg, "janus"));
  const auto sender = id_of(member(msg, "sender"));
  if (kind == "event") {
    const auto& data = member(member(msg, "plugindata"), "data");
    if (sender == room_handle_) {
      add_feeds(member(data, "publishers"));
    } else if (sender == sub_handle_ && sub_handle_ != 0) {
      const auto& jsep = member(msg, "jsep");
      if (jsep.is_object()) on_subscribe_offer(jsep);
    }
  } else if (kind == "trickle") {
    on_trickle(sender, member(msg, "candidate"));
  } else if (kind == "hangup") {
    fail(std::string("Janus hung up the ") + (sender == sub_handle_ ? "subscribe" : "publish") +
         " connection: " + string_of(member(msg, "reason")));
  } else if (kind == "detached" || kind == "timeout") {
    fail("Janus: " + kind);
  }
  // webrtcup, media, slowlink: nothing to do.
}

}  // namespace conclave::bot
