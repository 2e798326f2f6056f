#pragma once
// How a Vorgang's row is read (private): the intake and the clerk's work share it.
#include <mvsp/cases/cases.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/text.hpp>
#include <string>
#include <string_view>

namespace mvsp::cases {

using core::json_object;

// No processing deadline: sorts after every day, so "deadline first" lists them last.
inline constexpr std::string_view kNoDeadline = "9999-12-31";
// The authority's file number: one line of at most this many bytes.
inline constexpr std::size_t kMaxAktenzeichen = 64;
// A paper applicant's name and postal address as the notice's address window takes them
// (DIN 5008: six lines of about 45 characters at most): the name wrapped onto two lines at
// most, the address on two to four.
inline constexpr std::size_t kMaxLetterName = 90;
inline constexpr std::size_t kMinAddressLines = 2;
inline constexpr std::size_t kMaxAddressLines = 4;
inline constexpr std::size_t kMaxAddressLine = 45;
// One line of text for a letter: UTF-8 of 1 to `max` characters without control characters,
// line or paragraph separators, bidi controls (which would move what the window shows) or
// invisible characters (zero widths, joiners, the byte order mark, tags).
bool letter_line(std::string_view line, std::size_t max);
// Whether `address` is such an address: its lines joined by "\n", each a letter_line.
bool valid_address(std::string_view address);

inline constexpr const char* kCaseColumns =
    "id, reference, tenant_id, authority_id, application_id, online_service_id, "
    "online_service_version, title, applicant_kind, applicant_owner_id, applicant_name, "
    "applicant_email, state, submitted_at, received_at, form_key, form_version, "
    "payment_order_id, payment_status, payment_method, payment_amount_cents, kassenzeichen, "
    "updated_at, aktenzeichen, source, group_id, assignee_id, assignee_name, deadline_on, "
    "applicant_address";

// The citizen's file name as the Vorgang keeps it (cases.cpp): for the intake's documents
// and for those sent later in answer to a request alike.
std::string stored_filename(std::string_view name, std::size_t position);

inline Case read_case(const core::db::Row& r) {
  Case c;
  c.id = r.text(0);
  c.reference = r.text(1);
  c.tenant_id = r.text(2);
  c.authority_id = r.text(3);
  c.application_id = r.text(4);
  c.online_service_id = r.text(5);
  c.online_service_version = static_cast<int>(r.integer(6));
  c.title = r.text(7);
  c.applicant = {r.text(8), r.text(9), r.text(10), r.text(11)};
  c.state = r.text(12);
  c.submitted_at = core::from_millis(r.integer(13));
  c.received_at = core::from_millis(r.integer(14));
  c.form_key = r.text(15);
  c.form_version = static_cast<int>(r.integer(16));
  c.payment_order_id = r.text(17);
  c.payment_status = r.text(18);
  c.payment_method = r.text(19);
  c.payment_amount_cents = r.integer(20);
  c.kassenzeichen = r.text(21);
  c.updated_at = core::from_millis(r.integer(22));
  c.aktenzeichen = r.text(23);
  c.source = r.text(24);
  c.group_id = r.text(25);
  c.assignee_id = r.text(26);
  c.assignee_name = r.text(27);
  c.deadline_on = r.text(28) == kNoDeadline ? std::string() : r.text(28);
  c.applicant.address = r.text(29);
  return c;
}

}  // namespace mvsp::cases
