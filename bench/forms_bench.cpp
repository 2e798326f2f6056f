// The forms component in process, one thread:
//   pdf        PDFs of the filled two-page Hundesteuer application per second (tagged,
//              finished with qpdf), and pages per second; with --html FILE it also writes
//              the same content as HTML for WeasyPrint (bench/forms.sh)
//   validate   a posted page of 100 questions of every kind, read and checked per second
//              (Filling::submit), and the final check of the whole form (Filling::finish)
// Usage: mvsp_bench_forms pdf|validate [seconds] [--html FILE]
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/web/templates.hpp>
#include <string>

namespace forms = mvsp::forms;

namespace {

const mvsp::core::TimePoint kToday = mvsp::core::from_millis(1'796'295'600'000);

// Runs `fn` for `seconds`; returns the runs and the seconds it took.
std::pair<long, double> run_for(double seconds, const std::function<void()>& fn) {
  long n = 0;
  auto start = std::chrono::steady_clock::now();
  auto until = start + std::chrono::duration<double>(seconds);
  do {
    fn();
    ++n;
  } while (std::chrono::steady_clock::now() < until);
  return {n, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

forms::Answers hundesteuer_answers() {
  return {{"_done",
           "wohnort\nhalter\nhunde\nermaessigung\nermaessigung_"
           "grund\nzahlung\nbankverbindung\nerklaerung"},
          {"im_gemeindegebiet", "ja"},
          {"name.vorname", "Jürgen"},
          {"name.nachname", "Müller-Lüdenscheidt"},
          {"geburtsdatum", "1961-04-12"},
          {"anschrift.strasse", "Schloßstraße"},
          {"anschrift.hausnummer", "7"},
          {"anschrift.plz", "19053"},
          {"anschrift.ort", "Schwerin"},
          {"telefon", "0385 545-0"},
          {"email", "juergen@example.org"},
          {"hunde", "3"},
          {"hunde[0].rufname", "Bello"},
          {"hunde[0].rasse", "Dackel"},
          {"hunde[0].geschlecht", "m"},
          {"hunde[0].wurfdatum", "2020-05-01"},
          {"hunde[0].haltung_seit", "2026-09-01"},
          {"hunde[0].chipnummer", "276098106123456"},
          {"hunde[0].gefaehrlich", "nein"},
          {"hunde[1].rufname", "Zora"},
          {"hunde[1].rasse", "Schäferhund"},
          {"hunde[1].geschlecht", "w"},
          {"hunde[1].wurfdatum", "2019-02-10"},
          {"hunde[1].haltung_seit", "2026-11-15"},
          {"hunde[1].gefaehrlich", "ja"},
          {"hunde[1].erlaubnis_datum", "2026-11-20"},
          {"hunde[2].rufname", "Krümel"},
          {"hunde[2].rasse", "Mischling (Terrier, Pudel)"},
          {"hunde[2].geschlecht", "w"},
          {"hunde[2].wurfdatum", "2023-07-30"},
          {"hunde[2].haltung_seit", "2026-10-02"},
          {"hunde[2].gefaehrlich", "nein"},
          {"ermaessigung_beantragt", "ja"},
          {"grund", "tierheim"},
          {"lastschrift", "ja"},
          {"konto.iban", "DE89370400440532013000"},
          {"konto.kontoinhaber", "Jürgen Müller-Lüdenscheidt"},
          {"mandat", "ja"},
          {"richtig", "ja"}};
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

// The same document as HTML: the same heading, facts, sections and tables, the same font
// and size, for WeasyPrint.
std::string as_html(const forms::PdfDocument& d) {
  std::string out = fmt::format(
      "<!DOCTYPE html><html lang=\"de-DE\"><head><meta charset=\"utf-8\"><title>{}</title><style>"
      "@page {{ size: A4; margin: 2cm; }} body {{ font-family: 'DejaVu Sans'; font-size: 10pt; }}"
      "h1 {{ font-size: 18pt; }} h2 {{ font-size: 13pt; }} table {{ width: 100%; border-collapse: "
      "collapse; }}"
      "th {{ width: 190pt; text-align: left; vertical-align: top; padding: 4pt 12pt 4pt 0; }}"
      "td {{ padding: 4pt 0; white-space: pre-line; }}</style></head><body><h1>{}</h1>",
      escape(d.title), escape(d.title));
  for (const auto& f : d.facts) out += "<p>" + escape(f) + "</p>";
  for (const auto& s : d.sections) {
    out += "<section><h2>" + escape(s.title) + "</h2><table>";
    for (const auto& r : s.rows)
      out +=
          "<tr><th scope=\"row\">" + escape(r.label) + "</th><td>" + escape(r.value) + "</td></tr>";
    out += "</table></section>";
  }
  return out + "</body></html>";
}

// A form of 100 questions on one page: texts with lengths and patterns, numbers with
// bounds, money, dates with relative bounds, e-mail, phone, choices, yes/no, an address, an
// IBAN, and 20 conditional questions; and the answers a citizen would post.
std::pair<std::string, forms::Posted> hundred_questions() {
  std::string qs;
  forms::Posted posted;
  auto add = [&](const std::string& json) { qs += (qs.empty() ? "" : ",") + json; };
  for (int i = 0; i < 100; ++i) {
    auto id = fmt::format("f{}", i);
    switch (i % 10) {
      case 0:
        add(fmt::format(R"({{"id":"{}","type":"text","label":"Text {}","maxLength":80}})", id, i));
        posted.emplace_back(id, "Ein Text mit Umlauten: Grüße");
        break;
      case 1:
        add(fmt::format(R"({{"id":"{}","type":"integer","label":"Zahl {}","min":0,"max":1000}})",
                        id, i));
        posted.emplace_back(id, "42");
        break;
      case 2:
        add(fmt::format(R"({{"id":"{}","type":"money","label":"Betrag {}","max":100000}})", id, i));
        posted.emplace_back(id, "1.234,56");
        break;
      case 3:
        add(fmt::format(
            R"({{"id":"{}","type":"date","label":"Datum {}","max":"today","min":"today-120y"}})",
            id, i));
        posted.emplace_back(id, "12.04.1961");
        break;
      case 4:
        add(fmt::format(R"({{"id":"{}","type":"email","label":"E-Mail {}"}})", id, i));
        posted.emplace_back(id, "erika@example.org");
        break;
      case 5:
        add(fmt::format(
            R"({{"id":"{}","type":"choice","label":"Auswahl {}","options":[{{"value":"a","label":"A"}},{{"value":"b","label":"B"}},{{"value":"c","label":"C"}}]}})",
            id, i));
        posted.emplace_back(id, "b");
        break;
      case 6:
        add(fmt::format(R"({{"id":"{}","type":"yes_no","label":"Ja oder nein {}"}})", id, i));
        posted.emplace_back(id, "ja");
        break;
      case 7:
        add(fmt::format(
            R"({{"id":"{}","type":"text","label":"Kennzeichen {}","pattern":"[A-ZÄÖÜ]{{1,3}}-[A-Z]{{1,2}} [0-9]{{1,4}}","showIf":"f{} = true"}})",
            id, i, i - 1));
        posted.emplace_back(id, "HRO-AB 123");
        break;
      case 8:
        add(fmt::format(R"({{"id":"{}","type":"address","label":"Anschrift {}"}})", id, i));
        posted.emplace_back(id + ".strasse", "Am Markt");
        posted.emplace_back(id + ".hausnummer", "1");
        posted.emplace_back(id + ".plz", "19055");
        posted.emplace_back(id + ".ort", "Schwerin");
        break;
      default:
        add(fmt::format(R"({{"id":"{}","type":"iban","label":"Konto {}","showIf":"f{} > 10"}})", id,
                        i, i - 8));
        posted.emplace_back(id + ".iban", "DE89 3704 0044 0532 0130 00");
        posted.emplace_back(id + ".kontoinhaber", "Erika Mustermann");
    }
  }
  auto json = fmt::format(
      R"({{"format":"mvsp-form/1","key":"hundert","title":"Hundert Fragen","pages":[{{"id":"alle","title":"Alle Fragen","questions":[{}]}}],
      "rules":[{{"check":"f1 + f11 < 2000 or f6 = false","message":"Zu viel","field":"f1"}}]}})",
      qs);
  return {json, posted};
}

int usage() {
  std::fputs("usage: mvsp_bench_forms pdf|validate [seconds] [--html FILE]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string what = argv[1];
  double seconds = argc > 2 && argv[2][0] != '-' ? std::atof(argv[2]) : 3.0;
  std::string html;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--html") html = argv[i + 1];
  }
  mvsp::web::Catalog texts;
  texts.add(forms::embedded_resources());
  if (what == "pdf") {
    forms::Form form;
    for (const auto& json : forms::demo_forms()) {
      auto f = forms::parse_form(json);
      if (f && f->key == "hundesteuer-anmelden") form = *f;
    }
    forms::Filling filling(form, texts, {.now = kToday});
    auto answers = hundesteuer_answers();
    if (auto done = filling.finish(answers); !done) {
      for (const auto& f : done.error().fields)
        std::fprintf(stderr, "the benchmark's answers do not finish the form: %s %s\n",
                     f.field.c_str(), f.message.c_str());
      return 1;
    }
    auto document = forms::pdf_document(form, 1, filling, answers, "MV-35CA3-4HFYVHOK", kToday);
    auto sample = forms::render_pdf(document);
    if (!html.empty()) std::ofstream(html) << as_html(document);
    std::size_t bytes = sample.size();
    auto [n, took] = run_for(seconds, [&] { bytes = forms::render_pdf(document).size(); });
    std::printf("pdfs=%ld seconds=%.2f per_second=%.1f ms_per_pdf=%.2f bytes=%zu\n", n, took,
                n / took, 1000 * took / n, bytes);
    return 0;
  }
  if (what == "validate") {
    auto [json, posted] = hundred_questions();
    auto form = forms::parse_form(json);
    if (!form) {
      std::fprintf(stderr, "form: %s %s\n", form.error().fields.front().field.c_str(),
                   form.error().fields.front().message.c_str());
      return 1;
    }
    forms::Filling filling(*form, texts, {.now = kToday});
    auto first = filling.submit("alle", {}, posted);
    if (first.error) {
      std::fprintf(stderr, "posted page refused: %s %s\n",
                   first.error->fields.front().field.c_str(),
                   first.error->fields.front().message.c_str());
      return 1;
    }
    auto [n, took] = run_for(seconds, [&] { (void)filling.submit("alle", {}, posted); });
    std::printf(
        "check=submit questions=100 fields=%zu pages=%ld seconds=%.2f per_second=%.0f "
        "us_per_page=%.1f\n",
        posted.size(), n, took, n / took, 1e6 * took / n);
    auto answers = first.answers;
    auto [m, took2] = run_for(seconds, [&] { (void)filling.finish(answers); });
    std::printf(
        "check=finish questions=100 runs=%ld seconds=%.2f per_second=%.0f us_per_check=%.1f\n", m,
        took2, m / took2, 1e6 * took2 / m);
    return 0;
  }
  return usage();
}
