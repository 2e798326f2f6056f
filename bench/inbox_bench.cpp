// The clerk's inbox at scale: N Vorgänge of one authority (the worst case: one tenant holds
// all of them) in five groups, in the states a year of work leaves (most closed), with the
// search words the intake writes; then the inbox queries a clerk and a lead make, each
// many times with other parameters, through Casework::inbox as the pages call it. Prints
// p50 and p99 per query in milliseconds.
//
// The rows are written with multi-row INSERTs in the shape the intake writes them (the
// columns of cases, the words of case_terms), not through Cases::open: a million intakes
// with their PDFs would take hours and measure the intake, not the inbox.
//
// Usage: mvsp_bench_inbox DATABASE-URL N REPETITIONS   (DATABASE-URL "sqlite" for a file)
// With BENCH_FILLED=1 in the environment, a PostgreSQL database filled by an earlier run
// (with the same N) is measured again without filling it: for trying a change of a query.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>
#include <random>
#include <string>
#include <vector>

#include "app.hpp"

namespace {

using mvsp::cases::InboxQuery;
using mvsp::cases::Staffer;

constexpr const char* kTenant = "t-bench";
constexpr int kGroups = 5;

// Names as people have them: many, few of them common. Rank r of `count` is drawn with a
// weight of 1/(r + shift), which gives the most common family name about 0.6 % of the
// applicants (Müller, the most common in Germany, has about 0.3 %) and the most common
// given name about 2.5 %. Each name is made of syllables, one per digit of its rank, and an
// ending that keeps given and family names apart.
struct Names {
  std::vector<std::string> names;
  std::discrete_distribution<std::size_t> pick;
  Names(std::size_t count, double shift, const std::string& ending) {
    static const std::vector<std::string> kSyllables = {"ba", "ke", "li", "mo", "nu", "ra",
                                                        "se", "to", "wi", "zu", "ha", "fe"};
    std::vector<double> weights;
    for (std::size_t r = 0; r < count; ++r) {
      std::string name;
      for (std::size_t x = r + kSyllables.size(); x > 0; x /= kSyllables.size()) {
        name += kSyllables[x % kSyllables.size()];
      }
      names.push_back(name + ending);
      weights.push_back(1.0 / (static_cast<double>(r) + shift));
    }
    pick = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
  }
  const std::string& operator()(std::mt19937& random) { return names[pick(random)]; }
};
Names given_names(400, 10, "a");  // apart from the family names: one word each
Names family_names(5000, 30, "n");

const std::vector<std::pair<std::string, int>> kStates = {
    {"received", 4},       {"formal_check", 4}, {"documents_requested", 2},
    {"material_check", 4}, {"decided", 1},      {"announced", 5},
    {"filed", 10},         {"closed", 66},      {"withdrawn", 2},
    {"ended", 2}};

std::string sql_text(const std::string& s) {
  return "'" + s + "'";  // the generated words hold no quote
}

// Writes n Vorgänge with their words, `batch` rows per statement, in transactions.
void fill(mvsp::core::db::Database& db, int n) {
  std::mt19937 random(42);
  std::vector<std::string> states;
  for (const auto& [state, weight] : kStates) states.insert(states.end(), weight, state);
  constexpr int kBatch = 500;
  auto base = mvsp::core::to_millis(mvsp::core::SystemClock().now()) - std::int64_t{n} * 30'000;
  for (int first = 0; first < n; first += kBatch * 20) {
    db.transaction([&](mvsp::core::db::Connection& tx) {
      for (int b = first; b < std::min(n, first + kBatch * 20); b += kBatch) {
        std::string cases =
            "INSERT INTO cases (id, reference, tenant_id, authority_id, application_id, "
            "online_service_id, online_service_version, title, applicant_kind, "
            "applicant_owner_id, applicant_name, applicant_email, search_text, state, "
            "submitted_at, received_at, form_key, form_version, payment_order_id, "
            "payment_status, payment_method, payment_amount_cents, kassenzeichen, pdf_blob_id, "
            "json_blob_id, xml_blob_id, aktenzeichen, group_id, assignee_id, updated_at, "
            "deadline_on) VALUES ";
        std::string terms = "INSERT INTO case_terms (term, case_id, received_at) VALUES ";
        for (int i = b; i < std::min(n, b + kBatch); ++i) {
          auto id = fmt::format("c{:025}", i);
          auto code = fmt::format("{:05}", i % 100000);
          auto serial = fmt::format("{:08}", i);
          auto reference = fmt::format("MV-{}-{}", code, serial);
          const auto& given = given_names(random);
          const auto& family = family_names(random);
          auto state = states[random() % states.size()];
          auto group = fmt::format("g{}", random() % kGroups);
          auto at = base + std::int64_t{i} * 30'000;
          auto deadline = fmt::format("2027-{:02}-{:02}", 1 + random() % 12, 1 + random() % 28);
          if (i > b) {
            cases += ",";
            terms += ",";
          }
          cases += fmt::format(
              "({},{},'{}','amt-{}',{},'hundesteuer',1,'Hundesteuer anmelden','account','k',"
              "'{} {}','x@example.org','{} {}','{}',{},{},'hundesteuer',1,'','','',0,'','','',"
              "'','32.1-{}','{}','',{},'{}')",
              sql_text(id), sql_text(reference), kTenant, i % 3, sql_text("a" + id), given, family,
              reference, given, state, at, at, serial, group, at, deadline);
          terms += fmt::format(
              "('mv','{0}',{5}),('{1}','{0}',{5}),('{2}','{0}',{5}),('{3}','{0}',{5}),('{4}','{0}',"
              "{5})",
              id, code, serial, given, family, at);
        }
        tx.execute(cases);
        tx.execute(terms);
      }
    });
    std::fprintf(stderr, "\r%d of %d", std::min(n, first + kBatch * 20), n);
  }
  std::fprintf(stderr, "\n");
  db.transaction([&](mvsp::core::db::Connection& tx) {
    for (int g = 0; g < kGroups; ++g) {
      tx.execute("INSERT INTO case_groups (id, tenant_id, name) VALUES (?, ?, ?)",
                 fmt::format("g{}", g), std::string(kTenant), fmt::format("Gruppe {}", g));
    }
    tx.execute("INSERT INTO case_group_members (group_id, account_id) VALUES ('g1', 'clerk')");
  });
}

struct Measured {
  std::string name;
  std::vector<double> ms;
  std::size_t rows = 0;
  std::vector<std::pair<double, std::string>> slowest;  // time, search text
};

double percentile(std::vector<double> v, double p) {
  std::ranges::sort(v);
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: mvsp_bench_inbox DATABASE-URL N REPETITIONS\n");
    return 2;
  }
  mvsp::app::tune_allocator();
  mvsp::core::log::configure(mvsp::core::log::Level::warn, mvsp::core::log::Format::text);
  std::string url = argv[1];
  int n = std::atoi(argv[2]);
  int repetitions = std::atoi(argv[3]);
  char tmpl[] = "/tmp/mvsp-bench-inbox.XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);

  mvsp::app::Settings s;
  s.database = url == "sqlite" ? "sqlite:" + (dir / "bench.db").string() : url;
  s.data_dir = dir;
  s.listen = "127.0.0.1:0";
  s.public_url = "http://127.0.0.1";
  s.master_key_hex = std::string(64, 'a');
  s.job_workers = 0;
  s.log_level = "warn";
  s.components = {"cases"};
  mvsp::app::App app(s);
  auto& work = app.get<mvsp::cases::Casework>();

  auto filled = std::chrono::steady_clock::now();
  const char* reuse = std::getenv("BENCH_FILLED");
  if (!(reuse && std::string(reuse) == "1" && !url.starts_with("sqlite"))) fill(app.database(), n);
  auto fill_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - filled).count();
  // as autovacuum leaves tables that grew over a year: statistics, and the visibility map
  // that lets index-only scans skip the table
  if (!url.starts_with("sqlite")) app.database().acquire()->execute("VACUUM ANALYZE");

  Staffer clerk{"clerk", "Clara", {{kTenant, "clerk"}}};
  Staffer lead{"lead", "Leo", {{kTenant, "lead"}}};
  std::mt19937 random(7);
  std::vector<std::pair<std::string, std::function<InboxQuery()>>> queries = {
      {"clerk: my groups' open Vorgänge, first page", [] { return InboxQuery{}; }},
      {"clerk: filter by state (formal check)", [] { return InboxQuery{.state = "formal_check"}; }},
      {"lead: every open Vorgang by deadline", [] { return InboxQuery{.sort = "deadline"}; }},
      {"lead: all states, search by family name",
       [&] { return InboxQuery{.text = family_names(random), .state = "all"}; }},
      {"lead: search by given and family name",
       [&] {
         return InboxQuery{.text = given_names(random) + " " + family_names(random),
                           .state = "all"};
       }},
      {"lead: search by the most common family name",
       [&] { return InboxQuery{.text = family_names.names[0], .state = "all"}; }},
      {"clerk: search by reference number",
       [&] {
         auto i = static_cast<int>(random() % static_cast<unsigned>(n));
         return InboxQuery{.text = fmt::format("MV-{:05}-{:08}", i % 100000, i), .state = "all"};
       }},
  };
  std::vector<Measured> results;
  for (const auto& [name, make] : queries) {
    Measured m{.name = name, .ms = {}, .rows = 0, .slowest = {}};
    bool as_lead = name.starts_with("lead");
    for (int r = 0; r < repetitions; ++r) {
      auto q = make();
      auto start = std::chrono::steady_clock::now();
      auto page = work.inbox(as_lead ? lead : clerk, q);
      auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
      if (!page) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), page.error().message.c_str());
        return 1;
      }
      m.rows += page->rows.size();
      m.ms.push_back(ms);
      m.slowest.emplace_back(ms, q.text);
    }
    // the slowest searches, for whoever looks into the tail (stderr: not in the results)
    std::ranges::sort(m.slowest, std::greater<>());
    for (std::size_t i = 0; i < std::min<std::size_t>(3, m.slowest.size()); ++i) {
      if (!m.slowest[i].second.empty())
        std::fprintf(stderr, "slow: %s: \"%s\" %.2f ms\n", name.c_str(),
                     m.slowest[i].second.c_str(), m.slowest[i].first);
    }
    results.push_back(std::move(m));
  }
  // the second page of the first query, by its keyset
  {
    Measured m{.name = "clerk: the next page (keyset)", .ms = {}, .rows = 0, .slowest = {}};
    auto first = work.inbox(clerk, {});
    for (int r = 0; r < repetitions; ++r) {
      auto start = std::chrono::steady_clock::now();
      auto page = work.inbox(clerk, InboxQuery{.after = first->next});
      m.ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      m.rows += page ? page->rows.size() : 0;
    }
    results.push_back(std::move(m));
  }
  for (const auto& m : results) {
    std::printf("query=\"%s\" p50_ms=%.2f p99_ms=%.2f rows_per_page=%.1f\n", m.name.c_str(),
                percentile(m.ms, 0.50), percentile(m.ms, 0.99),
                static_cast<double>(m.rows) / static_cast<double>(m.ms.size()));
  }
  std::printf("vorgaenge=%d fill_seconds=%.1f\n", n, fill_seconds);
  std::filesystem::remove_all(dir);
  return 0;
}
