// CLI11 validators for numeric flags whose errors say what is wrong with the value:
// CLI11's own Range says "Value abc not in range 0 to 65535" for a word, and lets
// "nan" through a floating-point range (every comparison with NaN is false).
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace sctpp::tool {

// A decimal integer in [lo, hi].
inline CLI::Validator integer_in(int64_t lo, int64_t hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        int64_t v = 0;
        const char* b = text.data();
        const char* e = b + text.size();
        auto [p, ec] = std::from_chars(b, e, v);
        if (text.empty() || p != e || (ec != std::errc() && ec != std::errc::result_out_of_range))
          return "'" + text + "' is not a number (expected " + range + ")";
        if (ec == std::errc::result_out_of_range || v < lo || v > hi)
          return "'" + text + "' is out of range (expected " + range + ")";
        return {};
      },
      "INT in " + range);
}

// A finite decimal number in [lo, hi].
inline CLI::Validator real_in(double lo, double hi, const std::string& range) {
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
          return "'" + text + "' is not a number (expected " + range + ")";
        if (v < lo || v > hi) return "'" + text + "' is out of range (expected " + range + ")";
        return {};
      },
      "NUMBER in " + range);
}

// A decimal whole number 0..2^64-1 (no sign: "-1" must not wrap around).
inline std::optional<uint64_t> parse_u64(const std::string& text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace sctpp::tool
