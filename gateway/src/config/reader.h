// SPDX-License-Identifier: Apache-2.0
// Walks the YAML tree: located, path-named errors; ${NAME} substitution; typed scalars; maps read
// through per-section key tables. Every reader reports what is wrong and carries on, so one pass
// finds all the errors of a file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "config/suggest.h"

namespace edgegw::config::detail {

// yaml-cpp counts from 0 and uses -1 for "no position"; ours is 1-based with 0 for none.
Mark mark_of(const YAML::Node& node);
Mark mark_of(const YAML::Mark& mark);

// "a map", "a list", "a scalar", "an empty value": what a node is, never what it holds.
std::string_view kind_of(const YAML::Node& node);

// Text from the file made safe for a message: control characters escaped, long text shortened.
std::string printable(std::string_view text);
// The same in single quotes: 'jsn'.
std::string quote(std::string_view text);
// Whether an unknown or repeated key may be named in a message. "token:abc123" (a space missing
// after ':') is a key to YAML in a flow map, and would put the token on the terminal.
bool is_showable_key(std::string_view key);
// "cloud.batch" + "max_bytes" -> "cloud.batch.max_bytes".
std::string join_path(std::string_view path, std::string_view key);

// One value being read: a map entry's value or a list's element.
struct Item {
  YAML::Node node;
  std::string path;  // "cloud.batch.max_bytes", "sources[2]"
  Mark key_mark;     // where the key stands (for a list element: the element)
  // Where the value stands; an empty value has no position of its own, so its key's.
  Mark mark() const;
};

// A scalar after ${NAME} substitution, with the text as written for messages.
struct Scalar {
  std::string value;
  std::string written;
  bool plain = false;  // neither quoted nor tagged: typed by the YAML core schema
};

class Reader;

// One key of a section: how to read its value into the section's struct.
template <typename T>
struct Key {
  std::string_view name;
  void (*read)(Reader& reader, const Item& item, T& out);
  bool required = false;
};

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// The items a map held, by the index of their key in the table.
using Seen = std::vector<std::optional<Item>>;

// A list of maps read through one key table, one T per element, where one key's value must be
// unique across the list (a device's key, a source's name). T has a `Mark mark`.
template <typename T>
struct UniqueList {
  std::span<const Key<T>> keys;
  std::size_t unique_key;         // its index in keys
  std::string T::*unique_value;   // where that key's value is read to
  std::string_view role;          // "name": "'a' is already the name of sources[0] (line 3)"
  std::string_view element_keys;  // "name, plugin, ...": "expected a map (...), got a list"
};

class Reader {
 public:
  // Aliases can make a small file a huge tree (the "billion laughs"): the walk stops once nodes
  // reached a second time, or the bytes of the paths and scalars walked, pass these bounds, far
  // above what a real config needs. (Cycles are bounded by nesting depth.)
  static constexpr std::size_t kMaxAliasVisits = 100000;
  static constexpr std::size_t kMaxExpandedBytes = 64ULL * 1024 * 1024;
  static constexpr std::size_t kMaxErrors = 500;

  Reader(std::string file, EnvLookup env, std::string base_dir);

  // Reports "PATH: WHAT" at mark.
  void error(Mark mark, std::string_view path, std::string_view what);
  void error(const Item& item, std::string_view what) { error(item.mark(), item.path, what); }
  bool has_errors() const noexcept { return !errors_.empty(); }
  std::size_t error_count() const noexcept { return errors_.size(); }
  // The errors in file order.
  std::vector<Diagnostic> take_errors();

  const std::string& file() const noexcept { return file_; }
  const std::string& base_dir() const noexcept { return base_dir_; }

  // The item's scalar after substitution, or nullopt once the problem is reported.
  std::optional<Scalar> scalar(const Item& item, std::string_view expected = "a string");

  // Typed values. Each returns false (out untouched) once the problem is reported.
  bool read_string(const Item& item, std::string& out);
  bool read_non_empty(const Item& item, std::string& out);
  bool read_bool(const Item& item, bool& out);
  bool read_int64(const Item& item, std::int64_t lo, std::int64_t hi, std::int64_t& out);
  template <typename I>
  bool read_int(const Item& item, std::int64_t lo, std::int64_t hi, I& out) {
    std::int64_t value = 0;
    if (!read_int64(item, lo, hi, value)) return false;
    out = static_cast<I>(value);
    return true;
  }
  // A finite number in [lo, hi].
  bool read_double(const Item& item, double lo, double hi, double& out);
  bool read_duration(const Item& item, Duration min, Duration& out);
  bool read_size(const Item& item, std::uint64_t& out);
  template <typename E>
  bool read_enum(const Item& item, std::type_identity_t<std::span<const EnumName<E>>> names,
                 E& out);

  // Calls fn(key, value) for each entry of a map (an empty value counts as an empty map), after
  // reporting a value that is no map, keys that are not scalars and repeated keys (yaml-cpp keeps
  // them silently; only the first one is read). Returns false when the value is no map.
  bool for_each_entry(const Item& map,
                      const std::function<void(const std::string& key, const Item& value)>& fn);
  // Calls fn for each element of a list (an empty value counts as an empty list).
  bool for_each_element(const Item& list, const std::function<void(const Item& element)>& fn);

  // Reads a section through its key table: unknown keys (with a suggestion), missing required ones.
  template <typename T>
  Seen read_map(const Item& map, std::type_identity_t<std::span<const Key<T>>> keys, T& out);

  // Reads a list of maps (one T per element, whatever it holds, at the element's mark), calls
  // `check` with what each map held, and reports a unique key's value seen before, naming where.
  template <typename T>
  void read_unique_list(
      const Item& list, const UniqueList<T>& spec, std::vector<T>& out,
      const std::function<void(T& value, const Item& element, const Seen& seen)>& check = {});

 private:
  // Notes a visit of node under a path of path_bytes; false once past the bounds above.
  bool spend(const YAML::Node& node, const Item& where, std::size_t path_bytes);

  std::string file_;
  EnvLookup env_;
  std::string base_dir_;
  std::vector<Diagnostic> errors_;
  // yaml-cpp does not expose node identity; an alias shares its anchor's position and type.
  std::set<std::tuple<int, int, int>> visited_;
  std::size_t alias_visits_ = 0;
  std::size_t expanded_bytes_ = 0;
  bool exhausted_ = false;
  bool overflowed_ = false;  // more than kMaxErrors
};

template <typename E>
bool Reader::read_enum(const Item& item, std::type_identity_t<std::span<const EnumName<E>>> names,
                       E& out) {
  const auto s = scalar(item, "one of its names");
  if (!s) return false;
  for (const auto& name : names) {
    if (name.name == s->value) {
      out = name.value;
      return true;
    }
  }
  std::string list;
  for (const auto& name : names) {
    if (!list.empty()) list += ", ";
    list += name.name;
  }
  error(item, quote(s->written) + " is not one of " + list);
  return false;
}

template <typename T>
Seen Reader::read_map(const Item& map, std::type_identity_t<std::span<const Key<T>>> keys, T& out) {
  Seen seen(keys.size());
  std::vector<std::string_view> names;
  names.reserve(keys.size());
  for (const Key<T>& key : keys) names.push_back(key.name);
  const bool is_map = for_each_entry(map, [&](const std::string& name, const Item& value) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].name != name) continue;
      seen[i] = value;
      keys[i].read(*this, value, out);
      return;
    }
    if (is_showable_key(name)) {
      error(value.key_mark, value.path, "unknown key" + unknown_key_hint(name, names));
    } else {
      error(value.key_mark, map.path,
            "unknown key (not shown: it holds ':' or '=', or is long; a space missing after "
            "':'?)");
    }
  });
  if (!is_map) return seen;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].required && !seen[i]) {
      error(map.mark(), join_path(map.path, keys[i].name), "required key is missing");
    }
  }
  return seen;
}

template <typename T>
void Reader::read_unique_list(
    const Item& list, const UniqueList<T>& spec, std::vector<T>& out,
    const std::function<void(T& value, const Item& element, const Seen& seen)>& check) {
  struct First {
    std::string path;
    Mark mark;
  };
  std::map<std::string, First, std::less<>> firsts;
  for_each_element(list, [&](const Item& element) {
    T& value = out.emplace_back();
    value.mark = element.mark();
    if (!element.node.IsMap()) {
      error(element, "expected a map (" + std::string(spec.element_keys) + "), got " +
                         std::string(kind_of(element.node)));
      return;
    }
    const Seen seen = read_map<T>(element, spec.keys, value);
    if (check) check(value, element, seen);
    const std::string& unique = value.*spec.unique_value;
    if (unique.empty() || !seen[spec.unique_key]) return;
    const Item& item = *seen[spec.unique_key];
    const auto [first, inserted] = firsts.try_emplace(unique, First{element.path, item.mark()});
    if (!inserted) {
      error(item, quote(item.node.Scalar()) + " is already the " + std::string(spec.role) + " of " +
                      first->second.path + " (line " + std::to_string(first->second.mark.line) +
                      ")");
    }
  });
}

}  // namespace edgegw::config::detail
