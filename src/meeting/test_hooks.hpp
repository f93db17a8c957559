// What a malicious server could do, for tests to show that clients withstand it. The
// production binary has no code that sets these, so they stay null there; only the test
// server (tests/tools/test_hooks.cpp, built with CONCLAVE_TEST_HOOKS) sets them, once,
// before the server starts.
#pragma once

#include <atomic>
#include <string_view>

namespace conclave::meeting {

// A join whose name this accepts becomes a hidden participant (a "ghost"): in the meeting,
// receiving every broadcast relay and able to subscribe, but never in anyone's roster and
// never announced (docs/e2ee.md, "no ghost": such a participant must get no keys).
using HiddenJoin = bool (*)(std::string_view name);
inline std::atomic<HiddenJoin> hidden_join{nullptr};

}  // namespace conclave::meeting
