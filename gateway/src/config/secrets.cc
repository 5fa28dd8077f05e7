// SPDX-License-Identifier: Apache-2.0
#include "config/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "config/unique_fd.h"

namespace edgegw::config::detail {
namespace {

constexpr std::string_view kHeaderRule =
    "holds whitespace, a control or a non-ASCII character (it would corrupt the HTTP header)";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  std::string lower(key);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (std::string_view word : {"password", "token", "secret"}) {
    if (lower == word || ends_with(lower, "_" + std::string(word))) return true;
  }
  return false;
}

std::optional<std::string> token_problem(std::string_view token) {
  if (token.empty()) return "is empty";
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return std::string(kHeaderRule);
  }
  return std::nullopt;
}

std::variant<std::string, TokenFileError> read_token_file(const std::string& path) {
  // O_NONBLOCK: a FIFO named by mistake must not hang the loader.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0)
    return TokenFileError{"cannot be read: " + std::generic_category().message(errno)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return TokenFileError{"cannot be read: " + std::generic_category().message(errno)};
  }
  if (!S_ISREG(st.st_mode)) return TokenFileError{"is not a regular file"};
  if ((st.st_mode & S_IROTH) != 0) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return TokenFileError{"is readable by every user (mode " + std::string(mode) +
                          "); run chmod 600 on it"};
  }
  std::string content(kMaxTokenFileBytes + 1, '\0');
  std::size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + size, content.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return TokenFileError{"cannot be read: " + std::generic_category().message(errno)};
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxTokenFileBytes) {
    return TokenFileError{"is larger than " + std::to_string(kMaxTokenFileBytes) +
                          " bytes; a token file holds only the token"};
  }
  content.resize(size);
  const std::string_view token = trim(content);
  if (token.empty()) return TokenFileError{"is empty"};
  if (token_problem(token)) {
    return TokenFileError{
        "holds a token with whitespace, a control or a non-ASCII character inside (it would "
        "corrupt the HTTP header)"};
  }
  return std::string(token);
}

void read_inline_token(Reader& reader, const Item& item, Secret& out) {
  auto s = reader.scalar(item, "a string");
  if (!s) return;
  if (auto problem = token_problem(s->value)) {
    reader.error(item, "the token " + *problem);
    return;
  }
  out = Secret(std::move(s->value));
}

void read_file_token(Reader& reader, const Item& item, Secret& out) {
  const auto s = reader.scalar(item, "a file path");
  if (!s) return;
  if (s->value.empty()) {
    reader.error(item, "must not be empty");
    return;
  }
  std::filesystem::path path(s->value);
  if (path.is_relative()) path = std::filesystem::path(reader.base_dir()) / path;
  // The path as resolved helps most, unless it came from the environment: messages quote the file.
  const std::string shown = s->written.find('$') == std::string::npos ? path.string() : s->written;
  auto result = read_token_file(path.string());
  if (auto* problem = std::get_if<TokenFileError>(&result)) {
    reader.error(item, quote(shown) + " " + problem->reason);
    return;
  }
  out = Secret(std::get<std::string>(std::move(result)));
}

void check_one_token(Reader& reader, const Item& holder, const std::optional<Item>& token,
                     const std::optional<Item>& token_file) {
  if (!token && !token_file) {
    reader.error(holder.mark(), holder.path, "needs a token: give token or token_file");
  } else if (token && token_file) {
    const Item& later = (token_file->key_mark.line > token->key_mark.line ||
                         (token_file->key_mark.line == token->key_mark.line &&
                          token_file->key_mark.column > token->key_mark.column))
                            ? *token_file
                            : *token;
    reader.error(later.key_mark, later.path, "give token or token_file, not both");
  }
}

}  // namespace edgegw::config::detail
