// Search latency over a large catalog: the demo catalog plus generated services (default
// 20,000 in all, about 150 words each), indexed by the finder; p50/p99 of searches with
// two words, with a typo (spelling correction) and with a topic filter. With --write F it
// also writes the catalog as JSON for the page benchmark (bench/finder.sh).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/migrations.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/finder/finder.hpp>
#include <random>

#include "app.hpp"

using namespace mvsp;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kNouns = {
    "Hund",          "Gewerbe",       "Wohnsitz",     "Ausweis",     "Fahrzeug", "Baum",
    "Kita",          "Schule",        "Steuer",       "Abfall",      "Wasser",   "Gaststätte",
    "Veranstaltung", "Fischerei",     "Jagd",         "Waffe",       "Pflege",   "Rente",
    "Wohngeld",      "Bauantrag",     "Denkmal",      "Grundstück",  "Straße",   "Parkplatz",
    "Markt",         "Friedhof",      "Sport",        "Kultur",      "Hafen",    "Boot",
    "Strand",        "Ferienwohnung", "Lebensmittel", "Apotheke",    "Arzt",     "Krankenhaus",
    "Impfung",       "Tierhaltung",   "Pferd",        "Bienen",      "Wald",     "Deich",
    "Energie",       "Solaranlage",   "Heizung",      "Schornstein", "Lärm",     "Baustelle",
    "Container"};
const std::vector<std::string> kVerbs = {"anmelden",   "abmelden", "beantragen", "ändern",
                                         "verlängern", "anzeigen", "genehmigen", "melden",
                                         "erstatten",  "prüfen"};
const std::vector<std::string> kWords = {
    "Antrag",        "Nachweis",     "Gebühr",      "Frist",         "Unterlagen", "Behörde",
    "Gemeinde",      "Landkreis",    "Bescheid",    "Formular",      "Satzung",    "Erlaubnis",
    "Genehmigung",   "Auskunft",     "Bearbeitung", "Zuständigkeit", "Verfahren",  "Prüfung",
    "Zahlung",       "Termin",       "Wohnung",     "Eigentümer",    "Mieter",     "Kinder",
    "Eltern",        "Unternehmen",  "Betrieb",     "Person",        "Anschrift",  "Urkunde",
    "Bescheinigung", "Versicherung", "Einkommen",   "Vermögen",      "Ort"};

std::string text(std::mt19937& rng, int words) {
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (!out.empty()) out += ' ';
    out += kWords[rng() % kWords.size()];
    if (i % 3 == 0) out += " " + kNouns[rng() % kNouns.size()];
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int total = 20000;
  std::string write;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--services" && i + 1 < argc) total = std::stoi(argv[++i]);
    if (a == "--write" && i + 1 < argc) write = argv[++i];
  }
  auto dir = std::filesystem::temp_directory_path() / fmt::format("mvsp-search-{}", ::getpid());
  std::filesystem::create_directories(dir);
  core::SystemClock clock;
  core::RandomIdGenerator ids;
  auto db = core::db::Database::open("sqlite:" + (dir / "bench.db").string(), {});
  core::migrate(*db, app::all_migrations(), clock);
  core::AuditLog audit(clock);
  catalog::Catalog catalog(*db, clock, ids, audit);
  catalog::Editor state{.actor = "bench", .state_wide = true, .tenant_ids = {}};
  auto demo = core::fill_placeholders(catalog::demo_catalog_json(),
                                      {{"tenant:schwerin", "bench"}, {"tenant:wismar", "bench"}});
  if (!catalog.import_json(state, demo)) return 1;

  // Generated services up to `total`, with ~150 words of text each.
  std::mt19937 rng(42);
  auto existing = static_cast<int>(catalog.services().size());
  auto load_start = Clock::now();
  for (int i = existing; i < total; ++i) {
    catalog::Service s;
    s.leika_key = fmt::format("98{:012d}", i);
    s.name = fmt::format("{} {} ({})", kNouns[rng() % kNouns.size()], kVerbs[rng() % kVerbs.size()],
                         text(rng, 2));
    s.synonyms = {kNouns[rng() % kNouns.size()] + kWords[rng() % kWords.size()]};
    s.texts.description = text(rng, 60);
    s.texts.prerequisites = text(rng, 30);
    s.texts.documents = text(rng, 30);
    s.texts.fees = text(rng, 15);
    s.texts.legal_basis = text(rng, 15);
    s.topics = {"allgemein"};
    s.level = "municipality";
    if (!catalog.put_service(state, s)) return 1;
  }
  auto load_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  auto index_start = Clock::now();
  finder::Finder finder(catalog, dir / "index");
  auto index_s = std::chrono::duration<double>(Clock::now() - index_start).count();

  auto measure = [&](const std::vector<finder::Query>& queries, int rounds) {
    std::vector<double> ms;
    for (int r = 0; r < rounds; ++r) {
      for (const auto& q : queries) {
        auto t0 = Clock::now();
        auto res = finder.search(q);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (res.hits.empty() && r == 0 && q.text.find("zz") == std::string::npos) {
          std::fprintf(stderr, "no hit for %s\n", q.text.c_str());
        }
      }
    }
    return ms;
  };
  std::vector<finder::Query> two_words, typos, filtered;
  for (int i = 0; i < 50; ++i) {
    two_words.push_back(
        {.text = kNouns[rng() % kNouns.size()] + " " + kVerbs[rng() % kVerbs.size()]});
    auto noun = kNouns[rng() % kNouns.size()];
    if (noun.size() > 4) noun.erase(noun.size() / 2, 1);  // one letter missing
    typos.push_back({.text = noun + "xq"});
    filtered.push_back({.text = kVerbs[rng() % kVerbs.size()], .topic = "allgemein"});
  }
  auto a = measure(two_words, 40);
  auto b = measure(typos, 40);
  auto c = measure(filtered, 40);
  std::printf("| measure | value |\n| --- | --- |\n");
  std::printf("| services in the catalog | %zu |\n", finder.size());
  std::printf("| loading the generated services (one transaction each) | %.1f s |\n", load_s);
  std::printf("| building the index | %.1f s |\n", index_s);
  for (auto [name, v] : {std::pair{"two words", &a},
                         {"with a typo (spelling correction)", &b},
                         {"one word with a topic filter", &c}}) {
    std::printf("| search, %s: p50 / p99 (%zu searches) | %.2f ms / %.2f ms |\n", name, v->size(),
                percentile(*v, 0.5), percentile(*v, 0.99));
  }
  if (!write.empty()) std::ofstream(write) << catalog.export_json();
  std::filesystem::remove_all(dir);
  return 0;
}
