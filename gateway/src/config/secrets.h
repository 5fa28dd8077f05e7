// SPDX-License-Identifier: Apache-2.0
// Tokens and other secrets: where they come from (inline, ${NAME}, token_file) and the rules they
// must meet. No function here puts a secret's value into a message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.h"
#include "config/reader.h"

namespace edgegw::config::detail {

// password, token, secret, *_password, *_token, *_secret (any case): the keys of a plugin's config
// whose values are secrets.
bool is_secret_key(std::string_view key);

// Why `token` cannot go into a Device-Token header, or nullopt.
std::optional<std::string> token_problem(std::string_view token);

// The token held by a file, trimmed, or why there is none: the reason follows the quoted path
// ("'/x' is readable by every user (mode 0644); run chmod 600 on it").
inline constexpr std::size_t kMaxTokenFileBytes = 4096;
struct TokenFileError {
  std::string reason;
};
std::variant<std::string, TokenFileError> read_token_file(const std::string& path);

// `token:` and `token_file:` readers, for devices and for `unmapped: {default: ...}`.
void read_inline_token(Reader& reader, const Item& item, Secret& out);
void read_file_token(Reader& reader, const Item& item, Secret& out);
// Reports a holder with neither or both of token and token_file.
void check_one_token(Reader& reader, const Item& holder, const std::optional<Item>& token,
                     const std::optional<Item>& token_file);

}  // namespace edgegw::config::detail
