// Sample Vorhaben of the demo citizen (and one guest) to the Hundesteuer of Hansestadt
// Wismar, submitted through the journey's own use cases and then worked by the demo clerk
// through the case management, so that every state of the process is there to look at; and
// a Kampfmittel-Auskunft that the Munitionsbergungsdienst decides without a clerk.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/forms/letter.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/component.hpp>

#include "routes.hpp"

namespace mvsp::applications {
namespace {

constexpr const char* kService = "hundesteuer-online";
constexpr const char* kWismar = "13074087";
constexpr const char* kInformation = "kampfmittel-auskunft";
constexpr const char* kSchwerin = "13004000";

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

Actor citizen(const DemoParts& p) {
  return {.account_id = p.citizen,
          .organisation_id = {},
          .guest_of = {},
          .level = identity::TrustLevel::low,
          .locale = "de"};
}

bool submitted_before(const DemoParts& p, std::string_view service) {
  return std::ranges::any_of(p.apps.list(citizen(p)), [&](const Application& a) {
    return a.online_service_id == service && a.status != Status::draft;
  });
}

// A plan of the plot for the Kampfmittel-Auskunft: an 8×8 white PNG.
constexpr std::string_view kPlan{
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x08\x00\x00"
    "\x00\x08\x08\x02\x00\x00\x00\x4b\x6d\x29\xdc\x00\x00\x00\x0f\x49\x44\x41\x54\x78\xda"
    "\x63\xf8\x8f\x03\x30\x0c\x2d\x09\x00\xba\x1e\xbf\x41\x89\xe8\xb6\xbb\x00\x00\x00\x00"
    "\x49\x45\x4e\x44\xae\x42\x60\x82",
    72};

// The Kampfmittel-Auskunft for a building plot in Schwerin: the Munitionsbergungsdienst has
// set the online service to decide by itself, so the notice is made from its template when
// the Vorgang arrives and announced into Erika's mailbox, with no clerk.
std::string information_request(const DemoParts& p) {
  if (submitted_before(p, kInformation)) return "Kampfmittel-Auskunft: already there";
  auto erika = citizen(p);
  auto started = must(p.apps.start({.online_service_id = kInformation,
                                    .place = kSchwerin,
                                    .owner = Owner{"account", p.citizen},
                                    .account_id = p.citizen,
                                    .guest_email = {},
                                    .remote_address = "127.0.0.1",
                                    .locale = "de"}),
                      "start Kampfmittel-Auskunft");
  auto id = started.application.id;
  auto start_of_work = core::berlin_day(p.clock.now()) + std::chrono::days(90);
  must(p.apps.save_answers(
           erika, id,
           {{"_done", "lage\nantragsteller\nkontakt\nflurstuecke\nvorhaben\nerklaerung"},
            {"in_mv", "ja"},
            {"antragstellerart", "privatperson"},
            {"berechtigung", "bauherr"},
            {"name.vorname", "Erika"},
            {"name.nachname", "Mustermann"},
            {"anschrift.strasse", "Am Packhof"},
            {"anschrift.hausnummer", "4"},
            {"anschrift.plz", "19055"},
            {"anschrift.ort", "Schwerin"},
            {"telefon", "0385 5550123"},
            {"email", "erika.mustermann@example.org"},
            {"flurstuecke", "1"},
            {"flurstuecke[0].gemeinde", "Schwerin"},
            {"flurstuecke[0].gemarkung", "Schwerin"},
            {"flurstuecke[0].flur", "12"},
            {"flurstuecke[0].flurstueck", "34/5"},
            {"flurstuecke[0].lagebezeichnung", "Am Packhof 4"},
            {"vorhaben", "bauvorhaben"},
            {"beschreibung", "Neubau eines Einfamilienhauses mit Keller"},
            {"baubeginn", core::format_day(start_of_work)},
            {"eilbeduerftig", "nein"},
            {"kostenuebernahme", "ja"},
            {"richtig", "ja"}}),
       "Kampfmittel answers");
  auto plan = p.apps.add_document(erika, id, 0, "Lageplan.png", std::string(kPlan));
  if (!plan) {
    // the demo's uploads go through the virus scanner like any other
    must(p.apps.discard(erika, id), "discard");
    return "Kampfmittel-Auskunft left out: " + plan.error().message;
  }
  // the authority decides this online service by itself, with its template
  cases::Staffer admin{"system:demo", "Demo", {{p.information_tenant, "authority_admin"}}};
  std::string template_id;
  for (const auto& t : must(p.work.templates(admin, p.information_tenant), "templates")) {
    if (t.name == "Kampfmittelbelastungsauskunft") template_id = t.id;
  }
  if (template_id.empty()) {
    template_id =
        must(p.work.save_template(
                 admin, p.information_tenant,
                 {"", "Kampfmittelbelastungsauskunft", "Kampfmittelbelastungsauskunft",
                  "Sehr geehrte Person {antragsteller},\n\nSie haben am {eingang} eine Auskunft "
                  "über die Kampfmittelbelastung dieser Fläche beantragt:\n\n"
                  "| Gemarkung | {antwort.flurstuecke.1.gemarkung} |\n"
                  "| Flur | {antwort.flurstuecke.1.flur} |\n"
                  "| Flurstück | {antwort.flurstuecke.1.flurstueck} |\n\n"
                  "## Auskunft\n\nNach den Unterlagen des Munitionsbergungsdienstes ist die Fläche "
                  "nicht als kampfmittelbelastet bekannt. Sollten Sie bei den Arbeiten "
                  "Gegenstände finden, die Kampfmittel sein könnten, stellen Sie die Arbeiten "
                  "ein und rufen Sie die Polizei unter 110.\n\n"
                  "## Gebühr\n\n| Gebühr | {gebuehr} |\n| Kassenzeichen | {kassenzeichen} |\n\n"
                  "Diese Auskunft wurde automatisch erstellt."}),
             "template")
            .id;
  }
  must(p.work.save_service_settings(admin, p.information_tenant,
                                    {kInformation, "1M", "material_check", template_id}),
       "automatic decision");
  must(p.apps.pay(erika, id), "payment");
  must(p.payments.invoice(must(p.apps.find(erika, id), "find").payment_order_id), "invoice");
  must(p.apps.submit(erika, id, true), "submit");
  must(p.apps.hand_over(id), "hand-over");
  for (int round = 0; round < 6; ++round) p.run_jobs();
  p.work.follow_notices();
  p.run_jobs();
  auto reference = must(p.apps.find(erika, id), "find").reference;
  auto k = p.work.by_reference(reference);
  if (!k || k->state != cases::state_name(cases::State::announced)) {
    return fmt::format(
        "Kampfmittel-Auskunft {} submitted; its automatic notice is {} (announced "
        "once the platform runs)",
        reference, k ? k->state : std::string("not made yet"));
  }
  return fmt::format(
      "Kampfmittel-Auskunft {} decided automatically by the Munitionsbergungsdienst and announced",
      reference);
}

// What the scan of a paper application shows, as a PDF: the demo has no paper to scan.
std::string paper_scan() {
  forms::PdfLetter scan;
  scan.title = "Anmeldung eines Hundes zur Hundesteuer";
  scan.sender = {"Gisela Papier", "Turmstraße 5", "23966 Wismar"};
  scan.recipient = {"Hansestadt Wismar", "Abteilung Steuern und Abgaben", "23966 Wismar"};
  scan.body = forms::letter_blocks(
      "Hiermit melde ich meinen Hund Hasso (Dobermann) zur Hundesteuer an. Ich halte ihn seit "
      "dem 20. Oktober 2026.\n\nGisela Papier");
  return forms::render_letter(scan);
}

std::string hundesteuer(const DemoParts& p) {
  using enum cases::State;
  auto erika = citizen(p);
  if (submitted_before(p, kService)) return "Hundesteuer: already there";
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
    if (s.state == formal_check) {
      // a question and its answer, inside the Vorhaben
      must(p.work.send_message(clerk, k,
                               {.subject = "Rückfrage zur Rasse",
                                .body = fmt::format("Guten Tag,\n\nist {} ein reinrassiger {}? "
                                                    "Für einen Mischling gilt derselbe Steuersatz.",
                                                    s.dog, s.breed),
                                .required_level = "low",
                                .files = {}}),
           "message");
      must(p.apps.send_message(actor, id, "Ja, mit Ahnentafel. Ich kann sie gern schicken.", {}),
           "answer");
      continue;
    }
    if (s.state == documents_requested) {
      must(p.work.request_documents(
               clerk, k, {"Nachweis über die Herkunft des Hundes (zum Beispiel Kaufvertrag)"},
               core::format_day(core::berlin_day(p.clock.now()) + std::chrono::days(14)),
               "Ein Foto oder ein PDF genügt."),
           "document request");
      continue;
    }
    must(p.work.move(clerk, k, material_check, ""), "material check");
    if (s.state == material_check) {
      // Schwerin's Bürgeramt is asked whether the dog is taxed there already
      must(p.work.ask_statement(
               clerk, k,
               {.party_kind = "authority",
                .authority_id = "sn-buergeramt",
                .name = "",
                .email = "",
                .question = fmt::format("Guten Tag,\n\nist der Hund {} ({}) der Antragstellerin "
                                        "bereits in Schwerin zur Hundesteuer angemeldet?",
                                        s.dog, s.breed),
                .deadline_on =
                    core::format_day(core::berlin_day(p.clock.now()) + std::chrono::days(14)),
                .share_documents = true}),
           "request for a statement");
      continue;
    }
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
  // one came by post: the clerk entered it in the same form, with the scan of the paper
  auto on_paper = answers({"Hasso", "Dobermann", "2026-10-20", received});
  on_paper["name.vorname"] = "Gisela";
  on_paper["name.nachname"] = "Papier";
  on_paper["anschrift.strasse"] = "Turmstraße";
  on_paper["anschrift.hausnummer"] = "5";
  on_paper["email"] = "gisela.papier@example.org";
  auto paper = p.work.open_paper(
      clerk,
      {.key = "demo-hundesteuer-papierantrag",
       .authority_id = "hwi-steuern",
       .online_service_id = kService,
       .answers = std::move(on_paper),
       .applicant_name = "Gisela Papier",
       .applicant_address = "Turmstraße 5\n23966 Wismar",
       .aktenzeichen = "32.1-HST-2026/0060",
       .received_on = core::format_day(core::berlin_day(p.clock.now()) - std::chrono::days(1)),
       .scans = {{.requirement = "",
                  .filename = "Papierantrag-Hundesteuer.pdf",
                  .media_type = "application/pdf",
                  .content = paper_scan()}}});
  // the scan goes through the virus scanner like any upload
  if (!paper && paper.error().code != core::ErrorCode::unavailable)
    failed("paper application", paper.error());
  return fmt::format(
      "{} Vorgänge of the Hundesteuer at Hansestadt Wismar, one in each state of the process, "
      "{}{}",
      n,
      paper ? "and one that came on paper" : "the one on paper left out: " + paper.error().message,
      later ? fmt::format(" ({} not filed or closed: their notice was not announced yet)", later)
            : "");
}

}  // namespace

std::vector<std::string> load_demo_vorgaenge(const DemoParts& p) {
  return {hundesteuer(p), information_request(p)};
}

}  // namespace mvsp::applications
