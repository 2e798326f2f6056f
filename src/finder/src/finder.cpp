// The search index: one Xapian document per service. Title and synonyms weigh most and
// feed the spelling dictionary; the text modules weigh less. An index is written into a
// new directory and then swapped in, so searches never see a half-built index.
#include <fmt/format.h>
#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/finder/finder.hpp>
#include <shared_mutex>
#include <sstream>

namespace mvsp::finder {
namespace {

constexpr unsigned kTitleWeight = 8;
constexpr unsigned kSynonymWeight = 6;
constexpr unsigned kSummaryWeight = 2;

// A query or title as compared: lower case, without surrounding spaces.
std::string fold(std::string_view s) {
  auto out = core::fold_case(s);
  auto b = out.find_first_not_of(' ');
  auto e = out.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : out.substr(b, e - b + 1);
}

}  // namespace

struct Finder::Impl {
  catalog::Catalog& catalog;
  std::filesystem::path dir;
  mutable std::shared_mutex mutex;
  std::filesystem::path current;  // the index searches open
  std::size_t documents = 0;
  std::atomic<int> generation{0};
  std::mutex rebuild_mutex;
  std::string built_revision;  // the catalog's revision the current index was built from

  Impl(catalog::Catalog& c, std::filesystem::path d) : catalog(c), dir(std::move(d)) {}

  std::filesystem::path build() {
    auto path = dir / fmt::format("index-{}", ++generation);
    std::filesystem::remove_all(path);
    Xapian::WritableDatabase db(path.string(), Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator gen;
    gen.set_stemmer(Xapian::Stem("german"));
    gen.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    gen.set_database(db);
    for (const auto& s : catalog.services()) {
      Xapian::Document doc;
      gen.set_document(doc);
      // Title and synonyms also teach the spelling correction.
      gen.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
      gen.index_text(s.name, kTitleWeight);
      for (const auto& syn : s.synonyms) {
        gen.increase_termpos();
        gen.index_text(syn, kSynonymWeight);
      }
      gen.set_flags(0);
      gen.increase_termpos();
      gen.index_text(s.texts.description, kSummaryWeight);
      for (const auto* t : {&s.texts.prerequisites, &s.texts.documents, &s.texts.fees,
                            &s.texts.legal_basis, &s.texts.further_info}) {
        gen.increase_termpos();
        gen.index_text(*t);
      }
      for (const auto& t : s.topics) doc.add_boolean_term("XT" + t);
      for (const auto& l : s.life_situations) doc.add_boolean_term("XL" + l);
      doc.add_boolean_term("Q" + s.leika_key);
      doc.set_data(s.leika_key + "\n" + s.name);
      db.replace_document("Q" + s.leika_key, doc);
    }
    db.commit();
    return path;
  }
};

Finder::Finder(catalog::Catalog& catalog, std::filesystem::path index_dir)
    : impl_(std::make_unique<Impl>(catalog, std::move(index_dir))) {
  std::filesystem::create_directories(impl_->dir);
  rebuild();
}

Finder::~Finder() {
  std::error_code ignored;
  std::filesystem::remove_all(impl_->dir, ignored);
}

bool Finder::refresh() {
  std::lock_guard one_at_a_time(impl_->rebuild_mutex);
  if (impl_->catalog.revision() == impl_->built_revision) return false;
  rebuild_locked();
  return true;
}

void Finder::rebuild() {
  std::lock_guard one_at_a_time(impl_->rebuild_mutex);
  rebuild_locked();
}

void Finder::rebuild_locked() {
  // The revision before the build: a change made meanwhile makes the next refresh build.
  auto revision = impl_->catalog.revision();
  auto fresh = impl_->build();
  impl_->built_revision = revision;
  std::filesystem::path old;
  {
    std::unique_lock lock(impl_->mutex);
    old = impl_->current;
    impl_->current = fresh;
    impl_->documents = Xapian::Database(fresh.string()).get_doccount();
  }
  // Searches that opened the old index keep reading their open files.
  std::error_code ignored;
  if (!old.empty()) std::filesystem::remove_all(old, ignored);
  core::log::info("finder.index_built", {{"documents", std::to_string(size())}});
}

std::size_t Finder::size() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->documents;
}

Result Finder::search(const Query& q) const {
  Result out;
  std::filesystem::path path;
  {
    std::shared_lock lock(impl_->mutex);
    path = impl_->current;
  }
  // A handle per search: Xapian's objects are not shared between threads.
  Xapian::Database db(path.string());
  Xapian::QueryParser parser;
  parser.set_database(db);
  parser.set_stemmer(Xapian::Stem("german"));
  parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  auto flags = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_SPELLING_CORRECTION |
               Xapian::QueryParser::FLAG_PARTIAL;
  std::vector<Xapian::Query> filters;
  if (!q.topic.empty()) filters.emplace_back("XT" + q.topic);
  if (!q.life_situation.empty()) filters.emplace_back("XL" + q.life_situation);

  auto run = [&](const std::string& text, Xapian::Query::op op) {
    parser.set_default_op(op);
    Xapian::Query query;
    try {
      query = text.empty() ? Xapian::Query::MatchAll : parser.parse_query(text, flags);
    } catch (const Xapian::QueryParserError&) {
      query = parser.parse_query(text, 0);
    }
    for (const auto& f : filters) query = Xapian::Query(Xapian::Query::OP_FILTER, query, f);
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    return enquire.get_mset(0, static_cast<Xapian::doccount>(std::max<std::size_t>(q.limit, 50)));
  };

  auto text = q.text;
  auto mset = run(text, Xapian::Query::OP_AND);
  if (mset.empty() && !text.empty()) mset = run(text, Xapian::Query::OP_OR);
  if (mset.empty() && !text.empty()) {
    auto corrected = parser.get_corrected_query_string();
    if (corrected.empty()) {
      // Correct word by word: each word's best spelling from the dictionary.
      std::string joined;
      std::istringstream words(text);
      for (std::string w; words >> w;) {
        auto s = db.get_spelling_suggestion(fold(w), 3);
        joined += (joined.empty() ? "" : " ") + (s.empty() ? w : s);
      }
      if (fold(joined) != fold(text)) corrected = joined;
    }
    if (!corrected.empty()) {
      mset = run(corrected, Xapian::Query::OP_AND);
      if (mset.empty()) mset = run(corrected, Xapian::Query::OP_OR);
      if (!mset.empty()) out.suggestion = corrected;
    }
  }
  out.estimated_total = mset.get_matches_estimated();
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    auto data = it.get_document().get_data();
    auto nl = data.find('\n');
    out.hits.push_back({data.substr(0, nl), data.substr(nl + 1), it.get_weight()});
  }
  // A title that is exactly what was asked comes first.
  auto wanted = fold(out.suggestion.empty() ? text : out.suggestion);
  std::stable_partition(out.hits.begin(), out.hits.end(),
                        [&](const Hit& h) { return fold(h.name) == wanted; });
  if (out.hits.size() > q.limit) out.hits.resize(q.limit);
  return out;
}

}  // namespace mvsp::finder
