// SPDX-License-Identifier: Apache-2.0
#include "config/suggest.h"

#include <algorithm>
#include <vector>

namespace edgegw::config::detail {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Keys are short; a longer word is no typo of any of them and would only cost time.
constexpr std::size_t kMaxCompared = 64;

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  // Three rows: the one before the previous is needed for transpositions.
  std::vector<std::size_t> before(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::string_view closest(std::string_view word, std::span<const std::string_view> candidates) {
  if (word.size() > kMaxCompared) return {};
  std::string_view best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (best.empty() || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // One edit for short keys, up to a third of the key's length for longer ones.
  if (best.empty() || best_distance > std::max<std::size_t>(1, best.size() / 3)) return {};
  return best;
}

std::string unknown_key_hint(std::string_view key, std::span<const std::string_view> allowed) {
  if (std::string_view best = closest(key, allowed); !best.empty()) {
    return "; did you mean '" + std::string(best) + "'?";
  }
  std::string out = "; allowed keys: ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i != 0) out += ", ";
    out += allowed[i];
  }
  return out;
}

}  // namespace edgegw::config::detail
