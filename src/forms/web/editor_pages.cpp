// The editor's pages for forms (/redaktion/formulare): filled in by the next commit.
#include "pages.hpp"

namespace mvsp::forms {

void register_editor_pages(web::Router&, const web::Pages&, Forms&, catalog::Catalog&,
                           PageOptions) {}

}  // namespace mvsp::forms
