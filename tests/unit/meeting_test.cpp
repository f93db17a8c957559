// The meeting helpers the signaling requests rely on: display names (docs/protocol.md,
// `join.name`), meeting ids (as the client's isMeetingId in web/src/meeting-link.ts) and
// the wire ids of participants and tracks.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <regex>
#include <set>
#include <string>

#include "meeting/conference.hpp"

namespace conclave::meeting {
namespace {

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

bool accepted(std::string_view name) {
  return normalise_display_name(name).has_value();
}

TEST(DisplayName, TrimsSpacesAndTabs) {
  EXPECT_EQ(normalise_display_name("Ada"), "Ada");
  EXPECT_EQ(normalise_display_name("  Ada Lovelace \t"), "Ada Lovelace");
  EXPECT_EQ(normalise_display_name("\t\tAda"), "Ada");
  EXPECT_EQ(normalise_display_name(" x "), "x");
  // Inner spaces are kept as they are.
  EXPECT_EQ(normalise_display_name("Ada  L."), "Ada  L.");
}

TEST(DisplayName, EmptyIsRefused) {
  EXPECT_FALSE(accepted(""));
  EXPECT_FALSE(accepted(" "));
  EXPECT_FALSE(accepted("   \t  "));
}

TEST(DisplayName, AtMost64CodePoints) {
  EXPECT_TRUE(accepted(repeat("a", 64)));
  EXPECT_FALSE(accepted(repeat("a", 65)));
  // Code points, not bytes: 2-, 3- and 4-byte characters.
  EXPECT_TRUE(accepted(repeat("\xC3\xA9", 64)));  // é
  EXPECT_FALSE(accepted(repeat("\xC3\xA9", 65)));
  EXPECT_TRUE(accepted(repeat("\xE6\x97\xA5", 64)));  // 日
  EXPECT_FALSE(accepted(repeat("\xE6\x97\xA5", 65)));
  EXPECT_TRUE(accepted(repeat("\xF0\x9F\x98\x80", 64)));  // 😀, 256 bytes
  EXPECT_FALSE(accepted(repeat("\xF0\x9F\x98\x80", 65)));
  // Counted after trimming.
  EXPECT_EQ(normalise_display_name("  " + repeat("b", 64) + "  "), repeat("b", 64));
  EXPECT_EQ(normalise_display_name(" " + repeat("\xC3\xA9", 64) + "\t"), repeat("\xC3\xA9", 64));
}

TEST(DisplayName, MultibyteIsKeptUnchanged) {
  EXPECT_EQ(normalise_display_name("Chlo\xC3\xA9"), "Chlo\xC3\xA9");
  EXPECT_EQ(normalise_display_name(" \xE5\xB1\xB1\xE7\x94\xB0 "), "\xE5\xB1\xB1\xE7\x94\xB0");
  EXPECT_EQ(normalise_display_name("\xF0\x9F\x91\x8B hi"), "\xF0\x9F\x91\x8B hi");
  EXPECT_EQ(normalise_display_name("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_TRUE(accepted("\xC2\xA0x"));                                         // U+00A0, not C1
}

TEST(DisplayName, InvalidUtf8IsRefused) {
  EXPECT_FALSE(accepted("\xFF"));
  EXPECT_FALSE(accepted("\xFE"));
  EXPECT_FALSE(accepted("Ada\x80"));               // lone continuation byte
  EXPECT_FALSE(accepted("Ada\xC3"));               // truncated at the end
  EXPECT_FALSE(accepted("\xE6\x97"));              // truncated 3-byte sequence
  EXPECT_FALSE(accepted("\xF0\x9F\x98"));          // truncated 4-byte sequence
  EXPECT_FALSE(accepted("\xC3(x"));                // bad continuation
  EXPECT_FALSE(accepted("\xE6\x97(x"));            // bad second continuation
  EXPECT_FALSE(accepted("\xF8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(accepted("\xF4\x90\x80\x80"));      // above U+10FFFF
  EXPECT_FALSE(accepted("\xF7\xBF\xBF\xBF"));
}

TEST(DisplayName, OverlongEncodingsAreRefused) {
  EXPECT_FALSE(accepted("\xC0\xAF"));  // '/'
  EXPECT_FALSE(accepted("\xC1\xBF"));
  EXPECT_FALSE(accepted("\xC0\x80"));  // NUL, "modified UTF-8"
  EXPECT_FALSE(accepted("\xE0\x80\xAF"));
  EXPECT_FALSE(accepted("\xE0\x9F\xBF"));  // U+07FF in 3 bytes
  EXPECT_FALSE(accepted("\xF0\x80\x80\xAF"));
  EXPECT_FALSE(accepted("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
  // The shortest forms of the same boundaries are fine.
  EXPECT_TRUE(accepted("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(accepted("\xE0\xA0\x80"));      // U+0800
  EXPECT_TRUE(accepted("\xF0\x90\x80\x80"));  // U+10000
}

TEST(DisplayName, SurrogatesAreRefused) {
  EXPECT_FALSE(accepted("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(accepted("\xED\xAF\xBF"));              // U+DBFF
  EXPECT_FALSE(accepted("\xED\xB0\x80"));              // U+DC00
  EXPECT_FALSE(accepted("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(accepted("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 pair for U+1F600
  EXPECT_TRUE(accepted("\xED\x9F\xBF"));               // U+D7FF
  EXPECT_TRUE(accepted("\xEE\x80\x80"));               // U+E000
}

TEST(DisplayName, ControlCharactersAreRefused) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string inner = std::string("A") + static_cast<char>(c) + "B";
    EXPECT_FALSE(accepted(inner)) << "C0 " << c;
  }
  EXPECT_FALSE(accepted(std::string("Ada\0", 4)));
  EXPECT_FALSE(accepted("\nAda"));  // only spaces and tabs are trimmed
  EXPECT_FALSE(accepted("Ada\r\n"));
  EXPECT_FALSE(accepted("A\x7F"));  // DEL
  for (int c = 0x80; c < 0xA0; ++c) {
    std::string inner = "A";
    inner += static_cast<char>(0xC0 | (c >> 6));
    inner += static_cast<char>(0x80 | (c & 0x3F));
    EXPECT_FALSE(accepted(inner)) << "C1 " << c;
  }
}

TEST(DisplayName, BidiOverridesAndLineSeparatorsAreRefused) {
  // U+202A..U+202E (embeddings, overrides), U+2066..U+2069 (isolates).
  for (int c : {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}) {
    std::string s = "Ada";
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
    s += "gpj.exe";
    EXPECT_FALSE(accepted(s)) << std::hex << c;
  }
  EXPECT_FALSE(accepted("Ada\xE2\x80\xA8Lovelace"));  // U+2028 LINE SEPARATOR
  EXPECT_FALSE(accepted("Ada\xE2\x80\xA9Lovelace"));  // U+2029 PARAGRAPH SEPARATOR
  EXPECT_FALSE(accepted("Ada\xC2\x85"));              // U+0085 NEL (C1)
  // Neighbours stay allowed.
  EXPECT_TRUE(accepted("Ada\xE2\x80\xA7"));  // U+2027
  EXPECT_TRUE(accepted("Ada\xE2\x80\xAF"));  // U+202F
  EXPECT_TRUE(accepted("Ada\xE2\x81\xA5"));  // U+2065
  EXPECT_TRUE(accepted("Ada\xE2\x81\xAA"));  // U+206A
}

// The client's rule, web/src/meeting-link.ts isMeetingId, verbatim.
bool client_is_meeting_id(const std::string& s) {
  static const std::regex id("^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$");
  return std::regex_match(s, id) && s.find("--") == std::string::npos;
}

TEST(DisplayName, SomethingMustBeVisible) {
  EXPECT_FALSE(accepted("\u00A0\u00A0"));        // no-break spaces
  EXPECT_FALSE(accepted("\u200B"));              // zero-width space
  EXPECT_FALSE(accepted("\u3000\u2003\uFEFF"));  // ideographic, em space, BOM
  EXPECT_FALSE(accepted("\u3164"));              // Hangul filler
  EXPECT_TRUE(accepted("\u00A0Ada"));
  // 64 four-byte characters (256 bytes) with spaces around: trimmed first, then counted.
  EXPECT_TRUE(accepted("  " + repeat("\U0001F600", 64) + "  "));
}

TEST(MeetingId, Examples) {
  EXPECT_TRUE(is_meeting_id("abc"));
  EXPECT_TRUE(is_meeting_id("000"));
  EXPECT_TRUE(is_meeting_id("a-b"));
  EXPECT_TRUE(is_meeting_id("standup-42"));
  EXPECT_TRUE(is_meeting_id("q3x-7hk-m2p"));
  EXPECT_TRUE(is_meeting_id(std::string(64, 'z')));
  EXPECT_FALSE(is_meeting_id(std::string(65, 'z')));
  EXPECT_FALSE(is_meeting_id(""));
  EXPECT_FALSE(is_meeting_id("ab"));
  EXPECT_FALSE(is_meeting_id("a-"));
  EXPECT_FALSE(is_meeting_id("-ab"));
  EXPECT_FALSE(is_meeting_id("ab-"));
  EXPECT_FALSE(is_meeting_id("a--b"));
  EXPECT_FALSE(is_meeting_id("---"));
  EXPECT_FALSE(is_meeting_id("ABC"));
  EXPECT_FALSE(is_meeting_id("Abc"));
  EXPECT_FALSE(is_meeting_id("ab_c"));
  EXPECT_FALSE(is_meeting_id("ab c"));
  EXPECT_FALSE(is_meeting_id("ab.c"));
  EXPECT_FALSE(is_meeting_id("ab/c"));
  EXPECT_FALSE(is_meeting_id("abc\n"));
  EXPECT_FALSE(is_meeting_id(std::string("ab\0c", 4)));
  EXPECT_FALSE(is_meeting_id("caf\xC3\xA9"));
}

TEST(MeetingId, AgreesWithTheClientOnEveryShortString) {
  // Every string of length 0..6 over an alphabet with each class of character.
  const std::string alphabet = "a9-A_";
  for (std::size_t len = 0; len <= 6; ++len) {
    std::size_t total = 1;
    for (std::size_t i = 0; i < len; ++i) total *= alphabet.size();
    for (std::size_t n = 0; n < total; ++n) {
      std::string s;
      for (std::size_t i = 0, v = n; i < len; ++i, v /= alphabet.size()) {
        s += alphabet[v % alphabet.size()];
      }
      ASSERT_EQ(is_meeting_id(s), client_is_meeting_id(s)) << '"' << s << '"';
    }
  }
}

TEST(MeetingId, AgreesWithTheClientOnLongStrings) {
  std::mt19937 rng(4);
  const std::string alphabet = "abz09-";
  for (int round = 0; round < 20000; ++round) {
    const std::size_t len = 60 + rng() % 8;  // around the 64 limit
    std::string s;
    for (std::size_t i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
    ASSERT_EQ(is_meeting_id(s), client_is_meeting_id(s)) << '"' << s << '"';
  }
}

constexpr std::string_view kCrockford = "0123456789abcdefghjkmnpqrstvwxyz";

std::uint64_t decode(std::string_view id) {
  std::uint64_t v = 0;
  for (char c : id.substr(2)) v = (v << 5) | kCrockford.find(c);
  return v;
}

TEST(WireId, PrefixAnd13CrockfordCharacters) {
  for (char prefix : {'p', 't'}) {
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x123456789abcdef0},
                            ~std::uint64_t{0}}) {
      const auto id = wire_id(prefix, v);
      ASSERT_EQ(id.size(), 15u) << id;
      EXPECT_EQ(id[0], prefix);
      EXPECT_EQ(id[1], '-');
      for (char c : id.substr(2)) {
        EXPECT_NE(kCrockford.find(c), std::string_view::npos) << id;
      }
    }
  }
  EXPECT_EQ(wire_id('p', 0), "p-0000000000000");
  EXPECT_EQ(wire_id('t', 1), "t-0000000000001");
  EXPECT_EQ(wire_id('t', 31), "t-000000000000z");
  EXPECT_EQ(wire_id('t', 32), "t-0000000000010");
  EXPECT_EQ(wire_id('p', ~std::uint64_t{0}), "p-fzzzzzzzzzzzz");
  // No letters that read as digits (i, l, o) nor u.
  for (char c : std::string_view("ilou")) EXPECT_EQ(kCrockford.find(c), std::string_view::npos);
}

TEST(WireId, DecodesToItsValue) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const auto v = rng();
    EXPECT_EQ(decode(wire_id('p', v)), v);
  }
}

TEST(WireId, DistinctValuesGiveDistinctIds) {
  std::set<std::string> seen;
  // Neighbouring values, every single-bit value, and random values.
  for (std::uint64_t v = 0; v < 4096; ++v) ASSERT_TRUE(seen.insert(wire_id('t', v)).second) << v;
  for (int bit = 0; bit < 64; ++bit) {
    const auto v = std::uint64_t{1} << bit;
    if (v < 4096) continue;
    ASSERT_TRUE(seen.insert(wire_id('t', v)).second) << bit;
    ASSERT_TRUE(seen.insert(wire_id('t', ~v)).second) << bit;
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) seen.insert(wire_id('t', rng()));
  EXPECT_GE(seen.size(), 4096u + 2 * 52 + 19990);  // collisions of random values: ~never
  // The prefix keeps participant and track ids apart.
  EXPECT_NE(wire_id('p', 42), wire_id('t', 42));
}

TEST(WireId, RandomValuesAreNonZeroAndVary) {
  std::set<std::uint64_t> values;
  for (int i = 0; i < 100; ++i) {
    const auto v = random_u64();
    EXPECT_NE(v, 0u);
    values.insert(v);
  }
  EXPECT_EQ(values.size(), 100u);
}

}  // namespace
}  // namespace conclave::meeting
