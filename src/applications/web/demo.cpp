// Sample Vorhaben of the demo citizen (and one guest) to the Hundesteuer of Hansestadt
// Wismar, submitted through the journey's own use cases and then worked by the demo clerk
// through the case management, so that every state of the process is there to look at.
#include <fmt/format.h>

#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/component.hpp>

#include "routes.hpp"

namespace mvsp::applications {
namespace {

constexpr const char* kService = "hundesteuer-online";
constexpr const char* kWismar = "13074087";

struct Sample {
  const char* dog;
  const char* breed;
  const char* since;  // YYYY-MM-DD
  cases::State state;
  bool guest = false;
};

// A Hundesteuer application filled as a person would (one dog, no reduction, by invoice).
forms::Answers answers(const Sample& s) {
  return {{"_done", "wohnort\nhalter\nhunde\nermaessigung\nzahlung\nerklaerung"},
          {"im_gemeindegebiet", "ja"},
          {"name.vorname", s.guest ? "Gerd" : "Erika"},
          {"name.nachname", s.guest ? "Gast" : "Mustermann"},
          {"geburtsdatum", "1980-03-14"},
          {"anschrift.strasse", "Lübsche Straße"},
          {"anschrift.hausnummer", "12"},
          {"anschrift.plz", "23966"},
          {"anschrift.ort", "Wismar"},
          {"email", s.guest ? "gerd.gast@example.org" : "erika.mustermann@example.org"},
          {"hunde", "1"},
          {"hunde[0].rufname", s.dog},
          {"hunde[0].rasse", s.breed},
          {"hunde[0].geschlecht", "w"},
          {"hunde[0].wurfdatum", "2024-04-01"},
          {"hunde[0].haltung_seit", s.since},
          {"hunde[0].gefaehrlich", "nein"},
          {"ermaessigung_beantragt", "nein"},
          {"lastschrift", "nein"},
          {"richtig", "ja"}};
}

[[noreturn]] void failed(const std::string& what, const core::Error& e) {
  throw core::Failure(fmt::format(
      "demo Vorgänge: {}: {}{}", what, e.message,
      e.fields.empty() ? ""
                       : " (" + e.fields.front().field + ": " + e.fields.front().message + ")"));
}

template <typename T>
T must(core::Result<T> r, const std::string& what) {
  if (!r) failed(what, r.error());
  return std::move(*r);
}
void must(const core::Status& s, const std::string& what) {
  if (!s) failed(what, s.error());
}

}  // namespace

std::string load_demo_vorgaenge(const DemoParts& p) {
  using enum cases::State;
  Actor erika{.account_id = p.citizen,
              .organisation_id = {},
              .guest_of = {},
              .level = identity::TrustLevel::low,
              .locale = "de"};
  for (const auto& a : p.apps.list(erika)) {
    if (a.online_service_id == kService && a.status != Status::draft) return "already there";
  }
  cases::Staffer clerk{p.clerk, "Svenja Sachbearbeitung", {{p.tenant, "clerk"}}};
  cases::Staffer admin{"system:demo", "Demo", {{p.tenant, "authority_admin"}}};
  // the authority's settings: a processing deadline of one month, a notice template
  must(p.work.save_service_settings(admin, p.tenant, {kService, "1M", "material_check", ""}),
       "service settings");
  std::string template_id;
  for (const auto& t : must(p.work.templates(admin, p.tenant), "templates")) {
    if (t.name == "Hundesteuerbescheid") template_id = t.id;
  }
  if (template_id.empty()) {
    template_id = must(p.work.save_template(
                           admin, p.tenant,
                           {"", "Hundesteuerbescheid", "Bescheid über die Hundesteuer",
                            "Sehr geehrte Person {antragsteller},\n\nfür Ihren Hund "
                            "{antwort.hunde.1.rufname} ({antwort.hunde.1.rasse}) setzen wir die "
                            "Hundesteuer ab dem {antwort.hunde.1.haltung_seit} fest.\n\n"
                            "## Festsetzung\n\n| Hund | {antwort.hunde.1.rufname} |\n"
                            "| Steuer im Jahr | 60,00 € |\n\nDie Steuermarke erhalten Sie per "
                            "Post.\n\n## Rechtsbehelfsbelehrung\n\nGegen diesen Bescheid kann "
                            "innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben werden."}),
                       "template")
                      .id;
  }
  const std::vector<Sample> samples = {
      {"Luna", "Labrador", "2026-10-01", received},
      {"Bello", "Dackel", "2026-09-15", formal_check},
      {"Nala", "Border Collie", "2026-09-01", documents_requested},
      {"Paul", "Mischling", "2026-08-20", material_check},
      {"Frieda", "Pudel", "2026-08-01", decided, true},
      {"Balu", "Berner Sennenhund", "2026-07-15", announced},
      {"Emma", "Beagle", "2026-07-01", filed},
      {"Rocky", "Boxer", "2026-06-15", closed},
      {"Kira", "Schäferhund", "2026-06-01", withdrawn},
      {"Max", "Terrier", "2026-05-15", ended},
  };
  int n = 0;
  std::vector<std::pair<std::string, cases::State>> made;
  for (const auto& s : samples) {
    if (s.state == filed && !p.work.files_to_efile()) continue;
    auto started =
        must(p.apps.start({.online_service_id = kService,
                           .place = kWismar,
                           .owner = s.guest ? Owner{"guest", ""} : Owner{"account", p.citizen},
                           .account_id = s.guest ? std::string() : p.citizen,
                           .guest_email = s.guest ? "gerd.gast@example.org" : std::string(),
                           .remote_address = "127.0.0.1",
                           .locale = "de"}),
             "start");
    auto id = started.application.id;
    Actor actor = erika;
    if (s.guest) {
      must(p.apps.open_guest_link(started.guest_token), "guest link");
      actor = {.account_id = {},
               .organisation_id = {},
               .guest_of = {id},
               .level = identity::TrustLevel::basic,
               .locale = "de"};
    }
    must(p.apps.save_answers(actor, id, answers(s)), "answers");
    must(p.apps.pay(actor, id), "payment");
    must(p.payments.invoice(must(p.apps.find(actor, id), "find").payment_order_id), "invoice");
    must(p.apps.submit(actor, id, true), "submit");
    auto handed = must(p.apps.hand_over(id), "hand-over");
    auto k = handed.case_id;
    ++n;
    made.emplace_back(id, s.state);
    if (s.state == received) continue;
    if (s.state == withdrawn) {
      must(p.apps.withdraw(actor, id), "withdraw");
      continue;
    }
    must(p.work.assign(clerk, k, p.clerk), "assign");
    must(p.work.set_aktenzeichen(clerk, k, fmt::format("32.1-HST-2026/{:04}", 40 + n)),
         "Aktenzeichen");
    if (s.state == ended) {
      must(p.work.move(clerk, k, ended, "Der Hund wurde vor der Anmeldung abgegeben."), "end");
      continue;
    }
    must(p.work.move(clerk, k, formal_check, ""), "formal check");
    if (s.state == formal_check) continue;
    if (s.state == documents_requested) {
      must(p.work.request_documents(
               clerk, k, {"Nachweis über die Herkunft des Hundes (zum Beispiel Kaufvertrag)"},
               core::format_day(core::berlin_day(p.clock.now()) + std::chrono::days(14)),
               "Ein Foto oder ein PDF genügt."),
           "document request");
      continue;
    }
    must(p.work.move(clerk, k, material_check, ""), "material check");
    if (s.state == material_check) continue;
    must(p.work.decide(clerk, k, {.template_id = template_id}), "decision");
  }
  // the notices go out (the guest's by post), and what follows the announcement
  for (int round = 0; round < 6; ++round) p.run_jobs();
  p.work.follow_notices();
  int later = 0;  // announced only when the platform runs (the mailbox was not reached)
  for (const auto& [id, state] : made) {
    if (state != filed && state != closed) continue;
    auto k = p.apps.get(id)->case_id;
    bool done = state == filed ? p.work.hand_to_efile(clerk, k).has_value()
                               : p.work.move(clerk, k, closed, "").has_value();
    if (!done) ++later;
  }
  p.run_jobs();
  return fmt::format(
      "{} Vorgänge of the Hundesteuer at Hansestadt Wismar, one in each state of the process{}", n,
      later ? fmt::format(" ({} not filed or closed: their notice was not announced yet)", later)
            : "");
}

}  // namespace mvsp::applications
