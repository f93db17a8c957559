#include "bot/signal_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace conclave::bot {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

SignalClient::SignalClient(boost::asio::io_context& io, std::string host, std::uint16_t port,
                           std::string cookie)
    : io_(io), host_(std::move(host)), port_(port), cookie_(std::move(cookie)), ws_(io) {}

void SignalClient::connect(std::function<void(bool, std::string)> done) {
  boost::system::error_code bad;
  const auto address = boost::asio::ip::make_address(host_, bad);
  if (bad) return done(false, "not an IP address: " + host_);
  const tcp::endpoint ep(address, port_);
  ws_.next_layer().async_connect(ep, [this, done](const boost::system::error_code& ec) {
    if (ec) return done(false, "connect: " + ec.message());
    // The server checks Origin on the upgrade (a page of its own is the only caller).
    const std::string origin = "http://" + host_ + ":" + std::to_string(port_);
    ws_.set_option(
        websocket::stream_base::decorator([origin, cookie = cookie_](websocket::request_type& req) {
          req.set(beast::http::field::origin, origin);
          req.set(beast::http::field::user_agent, "conclave-bot");
          if (!cookie.empty()) req.set(beast::http::field::cookie, cookie);
        }));
    ws_.async_handshake(host_ + ":" + std::to_string(port_), "/ws",
                        [this, done](const boost::system::error_code& hs) {
                          if (hs) return done(false, "handshake: " + hs.message());
                          open_ = true;
                          read_loop();
                          done(true, {});
                        });
  });
}

void SignalClient::request(const std::string& type, json fields, Reply reply) {
  const auto id = next_id_++;
  fields["id"] = id;
  fields["type"] = type;
  pending_[id] = std::move(reply);
  outbox_.push_back(fields.dump());
  write_next();
}

void SignalClient::write_next() {
  if (writing_ || outbox_.empty() || !open_) return;
  writing_ = true;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(outbox_.front()),
                  [this](const boost::system::error_code& ec, std::size_t) {
                    writing_ = false;
                    outbox_.pop_front();
                    if (ec) return;
                    write_next();
                  });
}

void SignalClient::read_loop() {
  ws_.async_read(buffer_, [this](const boost::system::error_code& ec, std::size_t) {
    if (ec) {
      open_ = false;
      for (auto& [id, reply] : pending_) {
        const json err{{"code", "disconnected"}, {"message", ec.message()}};
        reply(nullptr, &err);
      }
      pending_.clear();
      if (on_closed_) on_closed_();
      return;
    }
    const auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    const auto msg = json::parse(text, nullptr, false);
    if (msg.is_object()) {
      if (msg.contains("event")) {
        if (on_event_) on_event_(msg);
      } else if (const auto id = msg.find("id"); id != msg.end() && id->is_number_unsigned()) {
        const auto it = pending_.find(id->template get<std::uint64_t>());
        if (it != pending_.end()) {
          auto reply = std::move(it->second);
          pending_.erase(it);
          if (const auto e = msg.find("error"); e != msg.end()) {
            reply(nullptr, &*e);
          } else {
            const auto r = msg.find("result");
            static const json empty = json::object();
            reply(r != msg.end() ? &*r : &empty, nullptr);
          }
        }
      }
    }
    read_loop();
  });
}

void SignalClient::close() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ec;
  ws_.next_layer().close(ec);
}

}  // namespace conclave::bot
