#pragma once
// The finder (Suchen und Finden): full-text search over the catalog's services with
// Xapian — German stemming, the catalog's synonyms, spelling correction, exact titles
// first, filters by topic and life situation. Each instance keeps its own index, built at
// start and rebuilt when the catalog changes.

#include <filesystem>
#include <memory>
#include <mvsp/core/resources.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mvsp::catalog {
class Catalog;
}
namespace mvsp::web {
class Router;
}

namespace mvsp::finder {

std::span<const core::Resource> embedded_resources();

struct Query {
  std::string text;
  std::string topic;           // a topic key, or empty
  std::string life_situation;  // a life situation key, or empty
  std::size_t limit = 20;
};

struct Hit {
  std::string leika_key;
  std::string name;
  double score = 0;
};

struct Result {
  std::vector<Hit> hits;
  // When the words as typed found nothing and a corrected spelling did: what was searched.
  std::string suggestion;
  std::size_t estimated_total = 0;
};

class Finder {
 public:
  // `index_dir`: where this instance keeps its index (created; emptied on rebuild).
  Finder(catalog::Catalog& catalog, std::filesystem::path index_dir);
  ~Finder();
  // Builds a fresh index from the catalog and switches to it; searches go on meanwhile.
  void rebuild();
  // Rebuilds when the catalog changed since the index was built; true when it did.
  bool refresh();
  Result search(const Query& query) const;
  std::size_t size() const;

 private:
  void rebuild_locked();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GET /api/v1/search?q=…[&ags=…][&topic=…][&lifeSituation=…]
void register_api(web::Router& router, Finder& finder, catalog::Catalog& catalog);

}  // namespace mvsp::finder
