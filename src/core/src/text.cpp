#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mvsp/core/text.hpp>
#include <vector>

namespace mvsp::core {

std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0xC3 && i + 1 < s.size()) {
      auto n = static_cast<unsigned char>(s[i + 1]);
      out += static_cast<char>(0xC3);
      out += static_cast<char>((n == 0x84 || n == 0x96 || n == 0x9C) ? n + 0x20 : n);
      ++i;
      continue;
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

namespace {
// The length of the well-formed UTF-8 sequence at the start of `s`, 0 when there is none.
std::size_t utf8_sequence(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}
}  // namespace

bool valid_utf8(std::string_view s) {
  while (!s.empty()) {
    auto n = utf8_sequence(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

std::string repair_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    auto n = utf8_sequence(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      s.remove_prefix(1);
    } else {
      out.append(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
  return out;
}

std::string escape_markup(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool is_plain_filename(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name.find_first_of("/\\\r\n\"") == name.npos;
}

bool is_single_line(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

bool looks_like_email(std::string_view s) {
  auto at = s.find('@');
  if (s.size() > 254 || at == 0 || at == std::string_view::npos ||
      s.find('@', at + 1) != std::string_view::npos)
    return false;
  auto domain = s.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.')
    return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7f && ch != '<' && ch != '>' && ch != ',' && ch != ';' && ch != '"';
  });
}

std::string fill_placeholders(
    std::string_view text, std::span<const std::pair<std::string_view, std::string_view>> values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find('{', pos);
    auto close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    auto name = text.substr(open + 1, close - open - 1);
    const std::string_view* value = nullptr;
    for (const auto& [key, v] : values) {
      if (key == name) value = &v;
    }
    if (value) {
      out.append(*value);
      pos = close + 1;
    } else {
      out.push_back('{');
      pos = open + 1;
    }
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string json_object(
    std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ",";
    append_json_string(out, key);
    out += ":";
    append_json_string(out, value);
  }
  return out + "}";
}

std::string truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  auto end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

namespace {
std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}
}  // namespace

std::string clean_filename(std::string_view name, std::string_view media_type) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  auto text = repair_utf8(name);
  // Unicode's invisible format characters (bidi overrides, zero widths) make a name read
  // otherwise than it is ("Rechnung<U+202E>fdp.exe" reads "Rechnungexe.pdf"): dropped.
  static const std::vector<std::string> kInvisible = {
      "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
      "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff"};
  for (const auto& mark : kInvisible) {
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) {
      text.erase(at, mark.size());
    }
  }
  std::string out;
  for (unsigned char ch : text) {
    if (ch < 0x20 || ch == 0x7f || ch == '"') continue;
    out.push_back(static_cast<char>(ch));
  }
  out = truncate_utf8(out, 200);
  while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(0, 1);
  if (out.empty()) out = "Datei";
  // the extension says what the content is
  auto slash_type = media_type.find('/');
  std::string extension(slash_type == std::string_view::npos ? ""
                                                             : media_type.substr(slash_type + 1));
  if (extension == "jpeg") extension = "jpg";
  if (!extension.empty() && extension.find_first_of("+.-") == std::string::npos) {
    auto dot = out.rfind('.');
    auto given = dot == std::string::npos ? std::string() : ascii_lower(out.substr(dot + 1));
    bool fits = given == extension || (extension == "jpg" && given == "jpeg");
    if (!fits) out += "." + extension;
  }
  return out;
}

}  // namespace mvsp::core
