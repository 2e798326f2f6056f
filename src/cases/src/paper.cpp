// Paper applications: an application that came by post, entered by a clerk in the online
// service's own form and opened as a Vorgang like one submitted online, with its answers'
// PDF, XML and JSON, the scan of the paper as its documents and the Aktenzeichen given. Its
// applicant is reached by post only.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/core/virus_scan.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/outputs.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/web/templates.hpp>
#include <ranges>
#include <tuple>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {
namespace {

using core::Error;
using core::fail;

constexpr std::size_t kMinKey = 16;
constexpr std::size_t kMaxKey = 100;
// bytes: 4 lines of kMaxAddressLine characters of up to 4 bytes, and what trimming removes
constexpr std::size_t kMaxAddressBytes = 1000;
constexpr int kMaxDaysBack = 366;

// The key of an entry: the intake's application id of a paper Vorgang is "paper:<key>".
bool valid_key(std::string_view key) {
  return key.size() >= kMinKey && key.size() <= kMaxKey && std::ranges::all_of(key, [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

// The address as the letter prints it: each line trimmed, empty lines left out.
std::string address_lines(std::string_view address) {
  std::string out;
  for (auto part : std::views::split(address, '\n')) {
    auto line = core::trim(std::string_view(part.begin(), part.end()));  // also a CR of CRLF
    if (line.empty()) continue;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

std::vector<PaperChoice> Casework::paper_choices(const Staffer& who) {
  auto& d = *impl_;
  std::vector<PaperChoice> out;
  if (!d.options.paper_services || !d.options.forms || !d.options.texts) return out;
  auto c = d.db.acquire();
  auto mine = d.groups_of(*c, who.account_id);
  for (const auto& a : authorities()) {
    if (!Impl::has_role(who, a.tenant_id, {"clerk", "lead", "authority_admin"})) continue;
    // a clerk enters what their groups handle (and what no group does): the Vorgang is
    // theirs to see afterwards
    bool all = Impl::has_role(who, a.tenant_id, {"lead", "authority_admin"});
    for (auto& s : d.options.paper_services(a.id)) {
      if (!all) {
        auto g = c->query_one(
            "SELECT group_id FROM case_group_services WHERE tenant_id = ? AND "
            "online_service_id = ?",
            a.tenant_id, s.id);
        if (g && std::ranges::find(mine, g->text(0)) == mine.end()) continue;
      }
      out.push_back({a, std::move(s)});
    }
  }
  std::ranges::stable_sort(out, [](const PaperChoice& x, const PaperChoice& y) {
    return std::tie(x.authority.name, x.service.name) < std::tie(y.authority.name, y.service.name);
  });
  return out;
}

core::Result<Case> Casework::open_paper(const Staffer& who, const PaperApplication& p) {
  auto& d = *impl_;
  if (!valid_key(p.key)) return fail(Error::invalid("key", "must be the key of the entry"));
  auto choices = paper_choices(who);
  auto choice = std::ranges::find_if(choices, [&](const PaperChoice& x) {
    return x.authority.id == p.authority_id && x.service.id == p.online_service_id;
  });
  if (choice == choices.end()) {
    return fail(Error::forbidden("not an online service the person enters paper applications for"));
  }
  // entered before (the same entry sent twice): that Vorgang
  auto application_id = "paper:" + p.key;
  if (auto before = d.cases.by_application(application_id)) {
    // the same entry: of this authority and service, and a Vorgang the person sees
    if (before->authority_id != p.authority_id ||
        before->online_service_id != p.online_service_id ||
        !d.may_see(*d.db.acquire(), who, *before)) {
      return fail(Error::conflict("the entry was used for another Vorgang"));
    }
    return std::move(*before);
  }

  Error invalid{core::ErrorCode::invalid_input, "The paper application is not complete.", {}, {}};
  auto name = std::string(core::trim(p.applicant_name));
  if (!letter_line(name, kMaxLetterName)) {
    invalid.and_field(
        "applicant_name",
        fmt::format("is required (one line of at most {} characters)", kMaxLetterName));
  }
  auto address = address_lines(p.applicant_address);
  if (p.applicant_address.size() > kMaxAddressBytes || !valid_address(address)) {
    invalid.and_field("applicant_address",
                      fmt::format("is required ({} to {} lines of at most {} characters: street, "
                                  "postcode and town)",
                                  kMinAddressLines, kMaxAddressLines, kMaxAddressLine));
  }
  auto aktenzeichen = std::string(core::trim(p.aktenzeichen));
  if (aktenzeichen.size() > kMaxAktenzeichen || !letter_line(aktenzeichen, kMaxAktenzeichen)) {
    invalid.and_field("aktenzeichen", fmt::format("is required (one line of at most {} characters)",
                                                  kMaxAktenzeichen));
  }
  auto now = d.clock.now();
  auto today = core::berlin_day(now);
  auto day = core::parse_day(p.received_on);
  if (!day) {
    invalid.and_field("received_on", "must be a day (YYYY-MM-DD)");
  } else if (*day > today || *day < today - std::chrono::days(kMaxDaysBack)) {
    invalid.and_field("received_on", "must be today or a day of the last year");
  }
  if (p.scans.empty()) invalid.and_field("scans", "the scan of the paper application is required");
  check_attachments(p.scans, "scans", invalid);
  auto form = d.options.forms->published(choice->service.form_key, choice->service.form_version);
  if (!form) return fail(Error::unavailable("the online service's form is not there"));
  forms::Filling filling(form->form, *d.options.texts, {.now = now, .locale = "de"});
  if (auto done = filling.finish(p.answers); !done) {
    for (const auto& f : done.error().fields) invalid.and_field("answers." + f.field, f.message);
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  if (auto scanned = scan_attachments(d.options.scanner, p.scans, "scans"); !scanned) {
    return fail(scanned.error());
  }

  // it came in on that day; today it came in now
  auto received = *day == today ? now : core::TimePoint(*day) + std::chrono::hours(12);
  Intake in;
  in.application_id = application_id;
  in.reference = d.ids.public_id("MV");
  in.tenant_id = choice->authority.tenant_id;
  in.authority_id = choice->authority.id;
  in.online_service_id = choice->service.id;
  in.online_service_version = choice->service.version;
  in.title = choice->service.name;
  in.applicant = {.kind = "paper", .owner_id = "", .name = name, .email = "", .address = address};
  in.submitted_at = received;
  in.received_at = received;
  in.form_key = form->key;
  in.form_version = form->version;
  auto applicable = filling.applicable(p.answers);
  forms::Submission submission{.reference = in.reference, .submitted = received};
  in.answers_xml = forms::to_xml(form->form, form->version, applicable, submission);
  in.answers_json = forms::to_json(form->form, form->version, applicable, submission);
  in.pdf = forms::render_pdf(
      forms::pdf_document(form->form, form->version, filling, p.answers, in.reference, received));
  auto requirement = d.options.texts->text("de", "cases.paper.scan_requirement");
  for (const auto& scan : p.scans) {
    auto type = core::media_type_of(scan.content);
    in.documents.push_back({.requirement = requirement,
                            .filename = core::clean_filename(scan.filename, type),
                            .media_type = type,
                            .content = scan.content});
  }
  in.actor = Impl::actor(who);
  in.source = "paper";
  in.aktenzeichen = aktenzeichen;
  return d.cases.open(in);
}

}  // namespace mvsp::cases
