// The cost of end-to-end encryption (issue 6, "Scale and cost"), the C++ half:
//
//   - SFrame suite 4 (AES_128_GCM_SHA256_128) per frame through the media key state
//     (SenderKey::protect, ReceiverKeys::unprotect): an Opus frame of 100 bytes and VP8
//     frames of 1 000, 5 000 and 20 000 bytes (delta frames, 3-byte clear prefix) and
//     100 000 bytes (a key frame, 10-byte clear prefix). Every unprotect takes a frame it
//     has not seen (the 64-frame replay window refuses a counter twice).
//   - The key distribution of docs/e2ee.md at 100 participants, down to the JSON a client
//     puts on the relay, every message made and opened by src/e2ee/protocol.hpp: what a
//     member and the newcomer each send and receive when the 100th joins, what one sender
//     and one receiver do when one of 100 leaves. The traffic (relay requests, relay events
//     and their exact sizes) is attached as counters to BM_Join_MemberSend and
//     BM_Leave_Sender.
//
// scripts/bench-e2ee runs this next to the same SFrame work in Chromium (bench/e2ee.mjs)
// and writes the tables into docs/benchmarks.md. By hand:
//   build-bench/bench/conclave_bench_e2ee [--benchmark_min_time=0.5]
#include <benchmark/benchmark.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "e2ee/keys.hpp"
#include "e2ee/media_keys.hpp"
#include "e2ee/protocol.hpp"

namespace {

namespace e2ee = conclave::e2ee;
using e2ee::Bytes;
using nlohmann::json;

constexpr char kMeeting[] = "k3x9-m2q7-d4b8-n6t1";  // the shape of new_meeting_id()
constexpr int kPeople = 100;
constexpr int kNewcomer = kPeople - 1;  // the one who joins, and later the one who leaves
constexpr int kMe = 0;                  // the member whose part is measured

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  RAND_bytes(b.data(), static_cast<int>(n));
  return b;
}

// ---------------------------------------------------------------------------------------
// SFrame per frame.

constexpr std::uint32_t kKeyId = 0x5eed0001;

struct Frame {
  Bytes data;
  std::size_t prefix = 0;
};

// 100 bytes: Opus (nothing in the clear); larger: VP8, a key frame from 100 000 bytes on.
Frame media_frame(std::size_t size) {
  Frame f{Bytes(size), 0};
  for (std::size_t i = 0; i < size; ++i) f.data[i] = static_cast<std::uint8_t>(i * 131 + 7);
  if (size <= 100) return f;
  f.data[0] = size >= 100000 ? 0x10 : 0x31;  // the frame tag's low bit: 0 = key frame
  f.prefix = e2ee::vp8_clear_prefix(f.data);
  return f;
}

const char* frame_label(std::size_t size) {
  if (size <= 100) return "opus";
  return size >= 100000 ? "vp8_key" : "vp8_delta";
}

void finish_frames(benchmark::State& state, std::size_t size) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
  state.SetLabel(frame_label(size));
}

void BM_SframeProtect(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto frame = media_frame(size);
  e2ee::SenderKey sender(kKeyId, random_bytes(16));
  Bytes out;
  out.reserve(size + 64);
  for (auto _ : state) {
    out.clear();
    if (!sender.protect(frame.data, frame.prefix, out)) {
      state.SkipWithError("protect failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  finish_frames(state, size);
}

// Frames are protected in batches with the timer paused (a batch of about 4 MiB), then
// unprotected one by one in counter order, each exactly once.
void BM_SframeUnprotect(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto frame = media_frame(size);
  const auto base = random_bytes(16);
  e2ee::SenderKey sender(kKeyId, base);
  e2ee::ReceiverKeys receiver;
  receiver.set(kKeyId, sender.epoch(), base);
  const std::size_t batch_size = std::clamp<std::size_t>((4u << 20) / size, 16, 1024);
  std::vector<Bytes> batch(batch_size);
  for (auto& b : batch) b.reserve(size + 64);
  std::size_t next = batch_size;
  const auto now = e2ee::Clock::now();
  Bytes out;
  out.reserve(size + 64);
  for (auto _ : state) {
    if (next == batch_size) {
      state.PauseTiming();
      for (auto& b : batch) {
        b.clear();
        sender.protect(frame.data, frame.prefix, b);
      }
      next = 0;
      state.ResumeTiming();
    }
    out.clear();
    if (receiver.unprotect(batch[next++], frame.prefix, out, now) != e2ee::FrameResult::kOk) {
      state.SkipWithError("unprotect failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  finish_frames(state, size);
}

void BM_SframeBoth(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto frame = media_frame(size);
  const auto base = random_bytes(16);
  e2ee::SenderKey sender(kKeyId, base);
  e2ee::ReceiverKeys receiver;
  receiver.set(kKeyId, sender.epoch(), base);
  const auto now = e2ee::Clock::now();
  Bytes wire, out;
  wire.reserve(size + 64);
  out.reserve(size + 64);
  for (auto _ : state) {
    wire.clear();
    out.clear();
    if (!sender.protect(frame.data, frame.prefix, wire) ||
        receiver.unprotect(wire, frame.prefix, out, now) != e2ee::FrameResult::kOk) {
      state.SkipWithError("protect + unprotect failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  finish_frames(state, size);
}

BENCHMARK(BM_SframeProtect)->Arg(100)->Arg(1000)->Arg(5000)->Arg(20000)->Arg(100000);
BENCHMARK(BM_SframeUnprotect)->Arg(100)->Arg(1000)->Arg(5000)->Arg(20000)->Arg(100000);
BENCHMARK(BM_SframeBoth)->Arg(100)->Arg(1000)->Arg(5000)->Arg(20000)->Arg(100000);

// ---------------------------------------------------------------------------------------
// Key distribution at 100: the relay traffic of docs/e2ee.md and web/src/e2ee/manager.ts,
// every message built and opened by src/e2ee/protocol.hpp.
//
// A join: the newcomer broadcasts its hello; each member verifies it, answers with its own
// hello (with "reply": true) and its ratcheted key, both to the newcomer alone, and
// ratchets the other senders' keys itself; the newcomer gathers the members' hellos and
// sends each its own key (epoch 0: nobody has seen its media) in fan-out requests of at
// most 15,000 bytes (manager.ts FANOUT_BYTES). A leave: each remaining sender
// makes a fresh key and sends it in one fan-out request, `each`: {id: key message}, of
// which the server delivers each recipient only its own.

struct Person {
  std::string id;  // as the server makes it (wire_id in src/meeting/conference.cpp)
  e2ee::KeyPair identity;
  e2ee::KeyPair session;
  std::uint32_t key_id = 0;
  Bytes base;  // its sending key at epoch 0
};

// wire_id('p', random_u64()): "p-" + 13 Crockford base32 characters, 5 bits each from bit
// 60 down (the first one carries the top 4 bits only).
std::string participant_id() {
  static constexpr char kBase32[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::uint64_t v = 0;
  while (v == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  std::string out = "p-";
  for (int shift = 60; shift >= 0; shift -= 5) out += kBase32[(v >> shift) & 31];
  return out;
}

Person new_person() {
  Person p{participant_id(), e2ee::new_ed25519(), e2ee::new_x25519(), 0, random_bytes(16)};
  // Ten digits on the wire, as for 77 % of random key ids: the sizes do not vary by run.
  do {
    const auto r = random_bytes(4);
    p.key_id =
        std::uint32_t{r[0]} << 24 | std::uint32_t{r[1]} << 16 | std::uint32_t{r[2]} << 8 | r[3];
  } while (p.key_id < 1000000000u);
  return p;
}

json hello_of(const Person& p) {
  return e2ee::hello_message(kMeeting, p.id, p.identity, p.session.public_key, p.key_id);
}

// The answer to a newcomer's hello: the member's own hello, marked (unsigned) as a reply.
json reply_of(const Person& p) {
  auto h = hello_of(p);
  h["reply"] = true;
  return h;
}

Bytes pairwise(const Person& me, std::span<const std::uint8_t> their_identity,
               std::span<const std::uint8_t> their_session) {
  return *e2ee::pairwise_key(kMeeting, me.session.private_key, me.session.public_key,
                             me.identity.public_key, their_session, their_identity);
}

Bytes plaintext_of(const e2ee::SenderKey& key) {
  return e2ee::key_plaintext({key.key_id(), key.epoch(), key.base_key()});
}

// What the server delivers for relayed `data` (src/meeting/conference.cpp, relay()).
std::string relay_event(std::string_view from, const json& data) {
  return json{{"event", "relay"}, {"from", from}, {"data", data}}.dump();
}

// A relayed hello, verified against the sender id the server put on it.
std::optional<e2ee::Hello> take_hello(const std::string& event_text, std::string_view from) {
  const auto event = json::parse(event_text);
  const auto& data = event.at("data");
  if (e2ee::kind_of(data) != "hello") return std::nullopt;
  return e2ee::open_hello(data, kMeeting, from);
}

// A relayed `key`, opened; its key if it is the sender's own (`key_id` from its hello).
std::optional<e2ee::KeyUpdate> take_key(const std::string& event_text, const Bytes& pairwise_key,
                                        std::string_view from, std::string_view to,
                                        std::uint32_t key_id) {
  const auto event = json::parse(event_text);
  const auto& data = event.at("data");
  if (e2ee::kind_of(data) != "key") return std::nullopt;
  const auto plain = e2ee::open_entry(data, pairwise_key, from, to, kMeeting);
  if (!plain) return std::nullopt;
  auto k = e2ee::parse_key_plaintext(*plain);
  if (!k || k->key_id != key_id) return std::nullopt;
  return k;
}

// A relay request to one participant (`to`), or to everyone else (`to` null).
std::string relay_request(const json& to, json data) {
  return json{{"type", "relay"}, {"to", to}, {"data", std::move(data)}}.dump();
}

// The meeting: 100 people and their pairwise keys (symmetric: both ends derive the same
// one), made once, outside every measurement.
struct Meeting {
  std::vector<Person> people;
  std::map<std::pair<int, int>, Bytes> pairs;

  const Bytes& pair(int a, int b) {
    const auto k = std::minmax(a, b);
    auto it = pairs.find(k);
    if (it == pairs.end()) {
      const Person& other = at(k.second);
      it = pairs
               .emplace(k,
                        pairwise(at(k.first), other.identity.public_key, other.session.public_key))
               .first;
    }
    return it->second;
  }
  const Person& at(int i) const { return people[static_cast<std::size_t>(i)]; }

  // `from`'s key sealed for `to`, as a `key` message.
  json key(int from, int to, const e2ee::SenderKey& k) {
    return e2ee::key_message(
        e2ee::seal_entry(pair(from, to), at(from).id, at(to).id, kMeeting, plaintext_of(k)));
  }
};

Meeting& meeting() {
  static Meeting m = [] {
    Meeting r;
    for (int i = 0; i < kPeople; ++i) r.people.push_back(new_person());
    return r;
  }();
  return m;
}

// The keys a member holds for the other senders (all but `me` and `without`) at epoch 0.
e2ee::ReceiverKeys held_keys(int me, int without) {
  auto& m = meeting();
  e2ee::ReceiverKeys keys;
  for (int i = 0; i < kPeople; ++i)
    if (i != me && i != without) keys.set(m.at(i).key_id, 0, m.at(i).base);
  return keys;
}

double size_of(const json& j) {
  return static_cast<double>(j.dump().size());
}
double size_of(const std::string& s) {
  return static_cast<double>(s.size());
}

// The traffic of a join at 100, from the messages' exact sizes: requests clients send,
// their payload (`data` serialised, as the server measures it against its limits), and
// what the server delivers (payload in its relay event).
void join_traffic(benchmark::State& state) {
  auto& m = meeting();
  const Person& me = m.at(kMe);
  const Person& newcomer = m.at(kNewcomer);
  e2ee::SenderKey member_key(me.key_id, me.base);
  member_key.ratchet();
  const e2ee::SenderKey newcomer_key(newcomer.key_id, newcomer.base);
  const auto hello = hello_of(newcomer);
  const auto reply = reply_of(me);
  const auto key = m.key(kMe, kNewcomer, member_key);    // a member's, to the newcomer
  const auto own = m.key(kNewcomer, kMe, newcomer_key);  // the newcomer's, to a member
  const double hello_ev = size_of(relay_event(newcomer.id, hello));
  const double reply_ev = size_of(relay_event(me.id, reply));
  const double key_ev = size_of(relay_event(me.id, key));
  const double own_ev = size_of(relay_event(newcomer.id, own));
  const double members = kPeople - 1;
  auto& c = state.counters;
  c["hello_bytes"] = size_of(hello);
  c["reply_bytes"] = size_of(reply);
  c["key_bytes"] = size_of(key);
  c["envelope_bytes"] = key_ev - size_of(key);
  c["key_event_bytes"] = key_ev;
  // Its hello to everyone, then its keys in fan-outs (an `each` entry is the key message,
  // the quoted id, a colon and a comma).
  const double entry = size_of(own) + static_cast<double>(me.id.size()) + 4;
  const double fanouts = std::ceil(members * entry / 15000);
  c["newcomer_fanouts"] = fanouts;
  c["newcomer_requests"] = 1 + fanouts;
  c["member_requests"] = 2;  // a hello reply and a key, to the newcomer
  c["requests"] = 1 + fanouts + 2 * members;
  c["newcomer_relay_bytes"] = size_of(hello) + members * size_of(own);
  c["member_relay_bytes"] = size_of(reply) + size_of(key);
  c["payload_bytes"] = c["newcomer_relay_bytes"] + members * c["member_relay_bytes"];
  c["wire_bytes"] = members * (hello_ev + own_ev + reply_ev + key_ev);
  c["member_wire_bytes"] = hello_ev + own_ev;
  c["newcomer_wire_bytes"] = members * (reply_ev + key_ev);
  c["newcomer_events"] = 2 * members;
  c["member_events"] = 2;
}

// The traffic of a leave at 100 (the newcomer leaves again): 99 fan-out requests of 98
// keys each. Also the design it replaced, for comparison: one broadcast per sender,
// {"kind": "keys", "to": {id: sealed, …}}, delivered whole to all 98 other members.
void leave_traffic(benchmark::State& state, const std::string& request) {
  auto& m = meeting();
  const Person& me = m.at(kMe);
  const auto each = json::parse(request).at("each");
  const auto& one = each.begin().value();
  const double event = size_of(relay_event(me.id, one));
  json to = json::object();
  for (const auto& [id, msg] : each.items()) to[id] = {{"n", msg.at("n")}, {"c", msg.at("c")}};
  const json old{{"t", e2ee::kProtocolTag}, {"kind", "keys"}, {"to", std::move(to)}};
  const double senders = kPeople - 1, receivers = kPeople - 2;
  auto& c = state.counters;
  c["entries"] = static_cast<double>(each.size());
  c["each_bytes"] = size_of(each);  // what the server holds against its 16 KiB limit
  c["request_bytes"] = size_of(request);
  c["key_bytes"] = size_of(one);
  c["key_event_bytes"] = event;
  c["envelope_bytes"] = event - size_of(one);
  c["requests"] = senders;
  c["payload_bytes"] = senders * size_of(each);
  c["member_events"] = receivers;
  c["member_wire_bytes"] = receivers * event;
  c["wire_bytes"] = senders * receivers * event;
  c["old_message_bytes"] = size_of(old);
  c["old_member_wire_bytes"] = receivers * size_of(relay_event(me.id, old));
  c["old_wire_bytes"] = senders * c["old_member_wire_bytes"];
}

// The 100th joins; one member, on the newcomer's hello: verify it, derive the pairwise key
// (X25519 + HKDF), sign and write its hello reply, ratchet its own key and the 98 others'
// it holds, seal its key for the newcomer and write that request. (The browser ratchets
// the others' keys lazily, on the first frame of each new epoch: the same work, later.)
void BM_Join_MemberSend(benchmark::State& state) {
  auto& m = meeting();
  const Person& me = m.at(kMe);
  const Person& newcomer = m.at(kNewcomer);
  const auto hello = relay_event(newcomer.id, hello_of(newcomer));
  e2ee::SenderKey own(me.key_id, me.base);
  auto held = held_keys(kMe, kNewcomer);
  std::string reply, key;
  for (auto _ : state) {
    const auto h = take_hello(hello, newcomer.id);
    if (!h) {
      state.SkipWithError("hello did not verify");
      break;
    }
    const auto pw = pairwise(me, h->identity, h->session);
    reply = relay_request(newcomer.id, reply_of(me));
    own.ratchet();
    held.ratchet_all();
    key = relay_request(newcomer.id, e2ee::key_message(e2ee::seal_entry(
                                         pw, me.id, newcomer.id, kMeeting, plaintext_of(own))));
    benchmark::DoNotOptimize(reply.data());
    benchmark::DoNotOptimize(key.data());
  }
  join_traffic(state);
}

// ... and when the newcomer's key arrives: open it, take it.
void BM_Join_MemberReceive(benchmark::State& state) {
  auto& m = meeting();
  const Person& me = m.at(kMe);
  const Person& newcomer = m.at(kNewcomer);
  const auto event = relay_event(
      newcomer.id, m.key(kNewcomer, kMe, e2ee::SenderKey(newcomer.key_id, newcomer.base)));
  const Bytes& pw = m.pair(kMe, kNewcomer);
  auto held = held_keys(kMe, kNewcomer);
  for (auto _ : state) {
    const auto k = take_key(event, pw, newcomer.id, me.id, newcomer.key_id);
    if (!k) {
      state.SkipWithError("key did not open");
      break;
    }
    held.set(k->key_id, k->epoch, k->base);
    held.forget(k->key_id);  // so that the next iteration sets it again
  }
}

// The newcomer's sending part: sign and write its hello to everyone, then on each of the
// 99 members' hello replies: verify it, derive the pairwise key (X25519 + HKDF), seal its
// own key (epoch 0) for that member and write the request.
void BM_Join_NewcomerSend(benchmark::State& state) {
  auto& m = meeting();
  const Person& newcomer = m.at(kNewcomer);
  std::vector<std::string> replies;
  for (int i = 0; i < kNewcomer; ++i) replies.push_back(relay_event(m.at(i).id, reply_of(m.at(i))));
  const e2ee::SenderKey own(newcomer.key_id, newcomer.base);
  std::vector<Bytes> pairwise_keys;
  std::vector<std::string> requests(kNewcomer + 1);
  for (auto _ : state) {
    requests[0] = relay_request(nullptr, hello_of(newcomer));
    pairwise_keys.clear();
    for (int i = 0; i < kNewcomer; ++i) {
      const Person& member = m.at(i);
      const auto h = take_hello(replies[static_cast<std::size_t>(i)], member.id);
      if (!h) {
        state.SkipWithError("hello reply did not verify");
        return;
      }
      pairwise_keys.push_back(pairwise(newcomer, h->identity, h->session));
      requests[static_cast<std::size_t>(i) + 1] = relay_request(
          member.id, e2ee::key_message(e2ee::seal_entry(pairwise_keys.back(), newcomer.id,
                                                        member.id, kMeeting, plaintext_of(own))));
    }
    benchmark::DoNotOptimize(requests.data());
  }
}

// The newcomer's receiving part: the 99 members' ratcheted keys, each opened and taken.
void BM_Join_NewcomerReceive(benchmark::State& state) {
  auto& m = meeting();
  const Person& newcomer = m.at(kNewcomer);
  std::vector<std::string> events;
  std::vector<Bytes> pairwise_keys;  // known from the hello replies
  for (int i = 0; i < kNewcomer; ++i) {
    e2ee::SenderKey k(m.at(i).key_id, m.at(i).base);
    k.ratchet();
    events.push_back(relay_event(m.at(i).id, m.key(i, kNewcomer, k)));
    pairwise_keys.push_back(m.pair(i, kNewcomer));
  }
  for (auto _ : state) {
    e2ee::ReceiverKeys received;
    for (int i = 0; i < kNewcomer; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const auto k = take_key(events[u], pairwise_keys[u], m.at(i).id, newcomer.id, m.at(i).key_id);
      if (!k) {
        state.SkipWithError("key did not open");
        return;
      }
      received.set(k->key_id, k->epoch, k->base);
    }
    benchmark::DoNotOptimize(received.counts());
  }
}

// One of 100 leaves; one remaining sender: a fresh key, sealed for each of the 98 other
// remaining key holders, written as one fan-out request (pairwise keys known).
void BM_Leave_Sender(benchmark::State& state) {
  auto& m = meeting();
  const Person& me = m.at(kMe);
  std::vector<const Bytes*> pairwise_keys;
  for (int i = 1; i < kNewcomer; ++i) pairwise_keys.push_back(&m.pair(kMe, i));
  e2ee::SenderKey own(me.key_id, me.base);
  std::string request;
  for (auto _ : state) {
    own.rekey(random_bytes(16));
    json each = json::object();
    for (int i = 1; i < kNewcomer; ++i) {
      const auto& to = m.at(i).id;
      each[to] = e2ee::key_message(e2ee::seal_entry(*pairwise_keys[static_cast<std::size_t>(i - 1)],
                                                    me.id, to, kMeeting, plaintext_of(own)));
    }
    request = json{{"type", "relay"}, {"each", std::move(each)}}.dump();
    benchmark::DoNotOptimize(request.data());
  }
  leave_traffic(state, request);
}

// ... and one remaining receiver: the 98 other senders' keys, each its own relay event,
// opened and taken.
void BM_Leave_Receiver(benchmark::State& state) {
  auto& m = meeting();
  const Person& me = m.at(kMe);
  std::vector<std::string> events;  // from members 1..98
  std::vector<Bytes> pairwise_keys;
  for (int i = 1; i < kNewcomer; ++i) {
    e2ee::SenderKey k(m.at(i).key_id, m.at(i).base);
    k.rekey(random_bytes(16));
    events.push_back(relay_event(m.at(i).id, m.key(i, kMe, k)));
    pairwise_keys.push_back(m.pair(kMe, i));
  }
  for (auto _ : state) {
    e2ee::ReceiverKeys received;
    for (int i = 1; i < kNewcomer; ++i) {
      const auto u = static_cast<std::size_t>(i - 1);
      const auto k = take_key(events[u], pairwise_keys[u], m.at(i).id, me.id, m.at(i).key_id);
      if (!k) {
        state.SkipWithError("key did not open");
        return;
      }
      received.set(k->key_id, k->epoch, k->base);
    }
    benchmark::DoNotOptimize(received.counts());
  }
}

BENCHMARK(BM_Join_MemberSend)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Join_MemberReceive)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Join_NewcomerSend)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Join_NewcomerReceive)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Leave_Sender)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Leave_Receiver)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------
// The primitives those are made of, one call each.

void BM_Prim_HelloSign(benchmark::State& state) {
  const Person& p = meeting().at(kMe);
  for (auto _ : state) benchmark::DoNotOptimize(hello_of(p).dump());
}

void BM_Prim_Ed25519Verify(benchmark::State& state) {
  auto& m = meeting();
  const Person& p = m.at(kMe);
  const auto transcript = e2ee::hello_transcript(kMeeting, p.id, p.session.public_key, p.key_id);
  const auto sig = *e2ee::ed25519_sign(p.identity.private_key, transcript);
  for (auto _ : state)
    benchmark::DoNotOptimize(e2ee::ed25519_verify(p.identity.public_key, transcript, sig));
}

void BM_Prim_PairwiseKey(benchmark::State& state) {
  auto& m = meeting();
  const Person& other = m.at(kNewcomer);
  for (auto _ : state)
    benchmark::DoNotOptimize(
        pairwise(m.at(kMe), other.identity.public_key, other.session.public_key));
}

void BM_Prim_SealKey(benchmark::State& state) {
  auto& m = meeting();
  const auto plain = e2ee::key_plaintext({1, 1, m.at(kMe).base});
  const auto nonce = random_bytes(12);
  const auto aad = e2ee::sealed_aad(m.at(kMe).id, m.at(kNewcomer).id, kMeeting);
  const Bytes& key = m.pair(kMe, kNewcomer);
  for (auto _ : state) benchmark::DoNotOptimize(e2ee::seal(key, nonce, aad, plain));
}

void BM_Prim_OpenKey(benchmark::State& state) {
  auto& m = meeting();
  const auto nonce = random_bytes(12);
  const auto aad = e2ee::sealed_aad(m.at(kMe).id, m.at(kNewcomer).id, kMeeting);
  const Bytes& key = m.pair(kMe, kNewcomer);
  const auto sealed = *e2ee::seal(key, nonce, aad, e2ee::key_plaintext({1, 1, m.at(kMe).base}));
  for (auto _ : state) benchmark::DoNotOptimize(e2ee::open(key, nonce, aad, sealed));
}

// What taking a sender's key costs a receiver: the SFrame key and salt of its KID.
void BM_Prim_SetKey(benchmark::State& state) {
  const auto base = random_bytes(16);
  e2ee::ReceiverKeys keys;
  for (auto _ : state) {
    keys.set(kKeyId, 0, base);
    keys.forget(kKeyId);
  }
}

void BM_Prim_Ratchet(benchmark::State& state) {
  e2ee::SenderKey key(kKeyId, random_bytes(16));
  for (auto _ : state) {
    key.ratchet();
    benchmark::DoNotOptimize(key.base_key().data());
  }
}

BENCHMARK(BM_Prim_HelloSign);
BENCHMARK(BM_Prim_Ed25519Verify);
BENCHMARK(BM_Prim_PairwiseKey);
BENCHMARK(BM_Prim_SealKey);
BENCHMARK(BM_Prim_OpenKey);
BENCHMARK(BM_Prim_SetKey);
BENCHMARK(BM_Prim_Ratchet);

}  // namespace

BENCHMARK_MAIN();
