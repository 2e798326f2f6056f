#pragma once
// Text helpers every component needs: matching what people type, escaping markup.

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace mvsp::core {

// Lower case for comparing names: ASCII and the German capitals Ä, Ö, Ü (UTF-8);
// everything else stays as it is.
std::string fold_case(std::string_view s);

// `s` without spaces, tabs and line breaks at either end.
std::string_view trim(std::string_view s);

// A file name that can go into a Content-Disposition header and a directory listing as it
// is: 1 to 255 bytes, no / \ " and no line breaks.
bool is_plain_filename(std::string_view name);

// One line of text that can go into a header (a mail's subject, an address): no line break,
// NUL or other control character but tab.
bool is_single_line(std::string_view s);

// One mail address as a person types it: something@domain.tld, printable ASCII without
// spaces, line breaks or the characters that separate addresses in a header (<>,;").
bool looks_like_email(std::string_view s);

// `text` with each {name} of `values` replaced by its value, in one pass: a value that holds
// "{link}" (an organisation's name a person typed) stays as it is. Other braces stay.
std::string fill_placeholders(
    std::string_view text, std::span<const std::pair<std::string_view, std::string_view>> values);
inline std::string fill_placeholders(
    std::string_view text,
    std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  return fill_placeholders(text, std::span(values.begin(), values.size()));
}

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s);
// `s` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
std::string repair_utf8(std::string_view s);

// At most `max` bytes of `s`, cut at the end of a whole UTF-8 character.
std::string truncate_utf8(std::string_view s, std::size_t max);
// Appends `s` as a JSON string (quotes, backslash and control characters escaped; UTF-8
// passes through as it is).
void append_json_string(std::string& out, std::string_view s);
// A JSON object of string members, for event payloads and audit details.
std::string json_object(
    std::initializer_list<std::pair<std::string_view, std::string_view>> members);

// Escapes & < > " ' for XML and HTML text and attribute values (SAML documents, the
// simulators' small pages; the pages of the platform escape through their templates).
std::string escape_markup(std::string_view s);

// A file name someone sent, as people may see it again (pages, Content-Disposition, ZIP):
// the last path part, valid UTF-8 without control characters, quotes or invisible format
// characters (bidi overrides, zero widths), at most 200 bytes, no leading dots; "Datei"
// when nothing is left; the extension of `media_type` added when the name's does not fit.
std::string clean_filename(std::string_view name, std::string_view media_type);

}  // namespace mvsp::core
