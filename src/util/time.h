// Time as the sans-IO core sees it: an instant on a monotonic clock that the caller
// supplies (the real steady clock in the runtime, a virtual clock in simulation).
#pragma once

#include <chrono>

namespace sctpp {

using Clock = std::chrono::steady_clock;
using Instant = Clock::time_point;
using Duration = Clock::duration;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

}  // namespace sctpp
