#include "pdf_canvas.hpp"
// Drawing with cairo and pango, and the qpdf pass that makes the PDF PDF/UA: language,
// window title, XMP identification, figures' text alternatives, artifacts.

#include <cairo-pdf.h>
#include <fmt/format.h>
#include <qpdf/qpdf-c.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mvsp/core/error.hpp>
#include <mvsp/core/text.hpp>
#include <set>
#include <type_traits>
#include <vector>

namespace mvsp::forms::pdf {

namespace {

struct CairoSurface {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoContext {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// The structure tag an artifact is drawn in, and the mark it gets in the content instead.
struct ArtifactTag {
  Artifact kind;
  const char* tag;
  const char* mark;
};
constexpr ArtifactTag kArtifactTags[] = {
    {Artifact::pagination, "Private", "/Artifact << /Type /Pagination >> BDC"},
    {Artifact::layout, "NonStruct", "/Artifact << /Type /Layout >> BDC"},
};

}  // namespace

Canvas::Canvas(cairo_surface_t* surface, cairo_t* cr, Frame frame, bool drawing)
    : surface_(surface),
      cr_(cr),
      frame_(frame),
      drawing_(drawing),
      context_(pango_cairo_create_context(cr)),
      y_(frame.top) {
  for (int bold = 0; bold < 2; ++bold) {
    fonts_[bold].reset(pango_font_description_new());
    pango_font_description_set_family(fonts_[bold].get(), kFont);
    pango_font_description_set_weight(fonts_[bold].get(),
                                      bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  }
}

Layout Canvas::text(const std::string& text, double size, bool bold, double width) {
  Layout layout(pango_layout_new(context_.get()));
  auto* font = fonts_[bold ? 1 : 0].get();
  pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
  pango_layout_set_font_description(layout.get(), font);
  pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
  pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
  pango_layout_set_text(layout.get(), text.c_str(), static_cast<int>(text.size()));
  return layout;
}

double Canvas::height_of(const Layout& layout) {
  int w = 0;
  int h = 0;
  pango_layout_get_size(layout.get(), &w, &h);
  return static_cast<double>(h) / PANGO_SCALE;
}

void Canvas::draw(const char* tag, const Layout& layout, double x, double y) {
  if (!drawing_) return;
  cairo_tag_begin(cr_, tag, "");
  cairo_move_to(cr_, x, y);
  pango_cairo_show_layout(cr_, layout.get());
  cairo_tag_end(cr_, tag);
}

void Canvas::draw_lines(const char* tag, const Layout& layout, int first, int last, double x,
                        double y) {
  if (!drawing_ || first >= last) return;
  cairo_tag_begin(cr_, tag, "");
  auto* iter = pango_layout_get_iter(layout.get());
  int index = 0;
  int top = 0;
  do {
    if (index >= first) {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(iter, nullptr, &logical);
      if (index == first) top = logical.y;
      // show_layout_line draws from the line's baseline at its left end
      auto baseline = pango_layout_iter_get_baseline(iter);
      cairo_move_to(cr_, x + static_cast<double>(logical.x) / PANGO_SCALE,
                    y + static_cast<double>(baseline - top) / PANGO_SCALE);
      pango_cairo_show_layout_line(cr_, pango_layout_iter_get_line_readonly(iter));
    }
    ++index;
  } while (index < last && pango_layout_iter_next_line(iter));
  pango_layout_iter_free(iter);
  cairo_tag_end(cr_, tag);
}

void Canvas::begin(const char* tag) {
  if (drawing_) cairo_tag_begin(cr_, tag, "");
}

void Canvas::end(const char* tag) {
  if (drawing_) cairo_tag_end(cr_, tag);
}

void Canvas::artifact(Artifact kind, const std::function<void(cairo_t*)>& paint) {
  if (!drawing_) return;
  const char* tag = nullptr;
  for (const auto& a : kArtifactTags) {
    if (a.kind == kind) tag = a.tag;
  }
  cairo_tag_begin(cr_, tag, "");
  cairo_save(cr_);
  paint(cr_);
  cairo_restore(cr_);
  cairo_tag_end(cr_, tag);
}

bool Canvas::fit(double height) {
  if (y_ + height <= frame_.bottom || y_ <= frame_.top) return false;
  new_page();
  return true;
}

void Canvas::new_page() {
  if (page_end_) page_end_(page_);
  if (drawing_) cairo_show_page(cr_);
  ++page_;
  y_ = frame_.top;
}

std::string draw_document(const std::string& title,
                          const std::function<void(cairo_surface_t*, cairo_t*)>& draw) {
  std::string raw;
  std::unique_ptr<cairo_surface_t, CairoSurface> surface(
      cairo_pdf_surface_create_for_stream(append, &raw, kPageWidth, kPageHeight));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw core::Failure("pdf: no surface");
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "mvsp");
  {
    std::unique_ptr<cairo_t, CairoContext> cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), 0, 0, 0);
    cairo_tag_begin(cr.get(), "Document", "");
    draw(surface.get(), cr.get());
    cairo_tag_end(cr.get(), "Document");
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS)
      throw core::Failure(std::string("pdf: ") + cairo_status_to_string(cairo_status(cr.get())));
  }
  cairo_surface_finish(surface.get());
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
    throw core::Failure(std::string("pdf: ") +
                        cairo_status_to_string(cairo_surface_status(surface.get())));
  return raw;
}

namespace {

// PDF/UA-1 wants the title and the identification in XMP (ISO 14289-1, 7.1 and 5).
std::string xmp(const Finish& d) {
  return fmt::format(
      R"(<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{}</rdf:li></rdf:Alt></dc:title>
   <dc:language><rdf:Bag><rdf:li>{}</rdf:li></rdf:Bag></dc:language>
   <dc:format>application/pdf</dc:format>
   <pdf:Producer>mvsp</pdf:Producer>
   <xmp:CreatorTool>mvsp</xmp:CreatorTool>
   <pdfuaid:part>1</pdfuaid:part>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>)",
      core::escape_markup(d.title), core::escape_markup(d.language));
}

using ObjectId = std::pair<int, int>;

// qpdf's C API: its C++ headers do not parse with clang in C++23 (clang-tidy), and reading
// a trailer, a catalog and the structure tree needs no more.
class QpdfReader {
 public:
  explicit QpdfReader(const std::string& pdf) : handle_(qpdf_init()), q_(handle_.get()) {
    qpdf_set_suppress_warnings(q_, QPDF_TRUE);
    if (qpdf_read_memory(q_, "form.pdf", pdf.data(), pdf.size(), nullptr) & QPDF_ERRORS) fail();
  }

  qpdf_oh trailer() { return qpdf_get_trailer(q_); }
  qpdf_oh root() { return qpdf_get_root(q_); }
  qpdf_oh key(qpdf_oh dict, const char* k) { return qpdf_oh_get_key(q_, dict, k); }
  bool has(qpdf_oh dict, const char* k) { return qpdf_oh_has_key(q_, dict, k) == QPDF_TRUE; }
  bool indirect(qpdf_oh oh) { return qpdf_oh_is_indirect(q_, oh) == QPDF_TRUE; }
  bool dictionary(qpdf_oh oh) { return qpdf_oh_is_dictionary(q_, oh) == QPDF_TRUE; }
  bool array(qpdf_oh oh) { return qpdf_oh_is_array(q_, oh) == QPDF_TRUE; }
  bool stream(qpdf_oh oh) { return qpdf_oh_is_stream(q_, oh) == QPDF_TRUE; }
  int size(qpdf_oh array) { return qpdf_oh_get_array_n_items(q_, array); }
  qpdf_oh item(qpdf_oh array, int i) { return qpdf_oh_get_array_item(q_, array, i); }
  int number(qpdf_oh oh) { return qpdf_oh_get_int_value_as_int(q_, oh); }
  ObjectId id(qpdf_oh oh) {
    return {qpdf_oh_get_object_id(q_, oh), qpdf_oh_get_generation(q_, oh)};
  }
  std::string unparse(qpdf_oh oh) { return qpdf_oh_unparse(q_, oh); }
  // A text as a PDF string (UTF-16 where it is not ASCII).
  std::string text(const std::string& utf8) {
    return unparse(qpdf_oh_new_unicode_string(q_, utf8.c_str()));
  }
  // The structure elements of type `type` under `element` (the structure tree's /K), in
  // document order.
  void find_elements(qpdf_oh element, const char* type, std::vector<qpdf_oh>& found) {
    if (array(element)) {
      int n = size(element);
      for (int i = 0; i < n; ++i) find_elements(item(element, i), type, found);
      return;
    }
    if (!dictionary(element)) return;  // a marked-content id
    if (qpdf_oh_is_name_and_equals(q_, key(element, "/S"), type) == QPDF_TRUE)
      found.push_back(element);
    if (has(element, "/K")) find_elements(key(element, "/K"), type, found);
  }
  // The dictionary's entries as PDF syntax (references stay references).
  std::map<std::string, std::string> entries(qpdf_oh dict) {
    std::map<std::string, std::string> out;
    std::vector<std::string> keys;
    qpdf_oh_begin_dict_key_iter(q_, dict);
    while (qpdf_oh_dict_more_keys(q_) == QPDF_TRUE) keys.emplace_back(qpdf_oh_dict_next_key(q_));
    for (const auto& k : keys) out[k] = unparse(key(dict, k.c_str()));
    return out;
  }
  std::map<std::string, std::string> stream_entries(qpdf_oh stream) {
    return entries(qpdf_oh_get_dict(q_, stream));
  }
  std::vector<qpdf_oh> pages() {
    std::vector<qpdf_oh> out;
    int n = qpdf_get_num_pages(q_);
    if (n < 0) fail();
    for (int i = 0; i < n; ++i) out.push_back(qpdf_get_page_n(q_, static_cast<std::size_t>(i)));
    return out;
  }
  // The stream's data with its filters undone.
  std::string data(qpdf_oh stream) {
    unsigned char* buffer = nullptr;
    std::size_t length = 0;
    QPDF_BOOL filtered = QPDF_FALSE;
    if (qpdf_oh_get_stream_data(q_, stream, qpdf_dl_generalized, &filtered, &buffer, &length) &
        QPDF_ERRORS)
      fail();
    std::string out(reinterpret_cast<const char*>(buffer), length);
    std::free(buffer);  // NOLINT: qpdf allocates it with malloc
    if (filtered != QPDF_TRUE) throw core::Failure("pdf: a content stream qpdf cannot decode");
    return out;
  }

 private:
  [[noreturn]] void fail() {
    std::string why =
        qpdf_has_error(q_) ? qpdf_get_error_full_text(q_, qpdf_get_error(q_)) : "unknown";
    throw core::Failure("pdf: qpdf cannot read cairo's file: " + why);
  }
  // owns the handle from the first line of the constructor on, so a refused file is freed too
  struct Cleanup {
    void operator()(qpdf_data q) const { qpdf_cleanup(&q); }
  };
  std::unique_ptr<std::remove_pointer_t<qpdf_data>, Cleanup> handle_;
  qpdf_data q_;
};

std::string dictionary(const std::map<std::string, std::string>& entries) {
  std::string out = "<<";
  for (const auto& [k, v] : entries) out += " " + k + " " + v;
  return out + " >>";
}

bool pdf_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

// The content with the artifacts' marks (`/Private << /MCID 3 >> BDC`, as cairo writes a
// leaf's mark) replaced by artifact marks. Literal and hex strings and comments are passed
// over whole, so that the bytes of a text can never be taken for a mark.
std::string mark_artifacts(const std::string& content, bool& changed) {
  std::string out;
  out.reserve(content.size() + 256);
  std::size_t i = 0;
  std::size_t n = content.size();
  while (i < n) {
    char c = content[i];
    std::size_t start = i;
    if (c == '(') {
      int depth = 0;
      for (; i < n; ++i) {
        if (content[i] == '\\') {
          ++i;
        } else if (content[i] == '(') {
          ++depth;
        } else if (content[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
      }
    } else if (c == '<' && i + 1 < n && content[i + 1] != '<') {
      i = content.find('>', i);
      i = i == std::string::npos ? n : i + 1;
    } else if (c == '%') {
      i = content.find_first_of("\r\n", i);
      if (i == std::string::npos) i = n;
    } else if (c == '/' && (i == 0 || pdf_space(content[i - 1]))) {
      bool replaced = false;
      for (const auto& a : kArtifactTags) {
        auto prefix = fmt::format("/{} << /MCID ", a.tag);
        if (content.compare(i, prefix.size(), prefix) != 0) continue;
        auto digits = i + prefix.size();
        auto after = digits;
        while (after < n && content[after] >= '0' && content[after] <= '9') ++after;
        constexpr std::string_view kClose = " >> BDC";
        if (after == digits || content.compare(after, kClose.size(), kClose) != 0) continue;
        out += a.mark;
        i = after + kClose.size();
        changed = replaced = true;
        break;
      }
      if (replaced) continue;
      ++i;
    } else {
      ++i;
    }
    out.append(content, start, i - start);
  }
  return out;
}

std::string deflate(const std::string& data) {
  auto bound = compressBound(static_cast<uLong>(data.size()));
  std::string out(bound, '\0');
  auto length = static_cast<uLongf>(bound);
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &length,
                reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    throw core::Failure("pdf: zlib cannot compress a page");
  out.resize(length);
  return out;
}

}  // namespace

// What cairo cannot set, added as an incremental update (ISO 32000-1, 7.5.6): a new
// version of the catalog with /Lang, /ViewerPreferences /DisplayDocTitle, /MarkInfo and
// the XMP metadata, and of the document information with the title; new versions of the
// structure elements, parent tree and page contents that change. qpdf reads cairo's file
// (only what is asked for); the update goes after it. Rewriting the whole file through qpdf
// took a third of the time of a PDF.
std::string finish(const std::string& pdf, const Finish& d) {
  QpdfReader q(pdf);
  auto trailer = q.trailer();
  auto root = q.root();
  auto root_id = q.id(root);
  int size = q.number(q.key(trailer, "/Size"));
  auto startxref = pdf.rfind("startxref");
  if (startxref == std::string::npos) throw core::Failure("pdf: cairo wrote no startxref");
  auto previous = std::stoll(pdf.substr(startxref + 9, 32));

  ObjectId metadata_id{size, 0};
  ObjectId info_id{size + 1, 0};
  std::map<std::string, std::string> info;
  auto info_ref = q.key(trailer, "/Info");
  if (q.indirect(info_ref) && q.dictionary(info_ref)) {
    info_id = q.id(info_ref);
    info = q.entries(info_ref);
  }
  info["/Title"] = q.text(d.title);
  info["/Producer"] = q.text("mvsp");

  auto catalog = q.entries(root);
  catalog["/Lang"] = q.text(d.language);
  catalog["/ViewerPreferences"] = "<< /DisplayDocTitle true >>";
  catalog["/MarkInfo"] = "<< /Marked true >>";
  catalog["/Metadata"] = fmt::format("{} 0 R", metadata_id.first);

  // Objects of cairo's file in a new version: cairo writes each structure element, the
  // parent tree and each page's content as an object of its own.
  std::map<ObjectId, std::map<std::string, std::string>> changed;
  auto change = [&](qpdf_oh oh) -> std::map<std::string, std::string>& {
    auto [at, fresh] = changed.try_emplace(q.id(oh));
    if (fresh) at->second = q.entries(oh);
    return at->second;
  };
  bool has_tree = q.has(root, "/StructTreeRoot");
  auto tree = has_tree ? q.key(q.root(), "/StructTreeRoot") : qpdf_oh{};
  auto elements = [&](const char* type) {
    std::vector<qpdf_oh> found;
    if (has_tree) q.find_elements(q.key(tree, "/K"), type, found);
    for (auto element : found) {
      if (!q.indirect(element)) throw core::Failure("pdf: cairo wrote a direct structure element");
    }
    return found;
  };

  // cairo 1.16 takes no attributes on structure tags: the figure's /Alt comes here.
  if (d.figure_alt) {
    auto found = elements("/Figure");
    if (found.empty()) throw core::Failure("pdf: cairo wrote no Figure element");
    for (auto element : found) change(element)["/Alt"] = q.text(*d.figure_alt);
  }

  // Artifacts are not part of the structure (ISO 14289-1, 7.1): their elements leave their
  // parents' /K and the parent tree, and their marks in the pages become artifact marks.
  std::set<ObjectId> artifacts;
  std::vector<qpdf_oh> parents;
  for (const auto& a : kArtifactTags) {
    for (auto element : elements(("/" + std::string(a.tag)).c_str())) {
      artifacts.insert(q.id(element));
      parents.push_back(q.key(element, "/P"));
    }
  }
  std::vector<std::pair<ObjectId, std::string>> streams;
  if (!artifacts.empty()) {
    // The list without the artifacts' elements; `keep_slots` leaves null in their place.
    auto without_artifacts = [&](qpdf_oh list, bool keep_slots) {
      std::string out = "[";
      for (int i = 0, n = q.size(list); i < n; ++i) {
        auto e = q.item(list, i);
        if (!q.indirect(e) || !artifacts.contains(q.id(e)))
          out += " " + q.unparse(e);
        else if (keep_slots)
          out += " null";
      }
      return out + " ]";
    };
    for (auto parent : parents) {
      if (!q.indirect(parent)) throw core::Failure("pdf: cairo wrote a direct structure element");
      auto kids = q.key(parent, "/K");
      if (q.array(kids))
        change(parent)["/K"] = without_artifacts(kids, false);
      else
        change(parent).erase("/K");  // the artifact was its only child
    }
    // the parent tree maps each page's marked content to its element: an artifact's slot
    // is empty now
    auto parent_tree = q.key(tree, "/ParentTree");
    if (!q.indirect(parent_tree) || !q.has(parent_tree, "/Nums"))
      throw core::Failure("pdf: cairo wrote no flat parent tree");
    auto nums = q.key(parent_tree, "/Nums");
    std::string list = "[";
    for (int i = 0, n = q.size(nums); i < n; ++i) {
      auto e = q.item(nums, i);
      list += " " + (i % 2 == 0 || !q.array(e) ? q.unparse(e) : without_artifacts(e, true));
    }
    change(parent_tree)["/Nums"] = list + " ]";

    for (auto page : q.pages()) {
      auto contents = q.key(page, "/Contents");
      std::vector<qpdf_oh> parts;
      if (q.array(contents)) {
        for (int i = 0, n = q.size(contents); i < n; ++i) parts.push_back(q.item(contents, i));
      } else {
        parts.push_back(contents);
      }
      for (auto part : parts) {
        if (!q.stream(part) || !q.indirect(part)) continue;
        bool marked = false;
        auto content = mark_artifacts(q.data(part), marked);
        if (!marked) continue;
        auto entries = q.stream_entries(part);
        entries.erase("/DecodeParms");
        auto packed = deflate(content);
        entries["/Filter"] = "/FlateDecode";
        entries["/Length"] = std::to_string(packed.size());
        streams.emplace_back(q.id(part),
                             dictionary(entries) + "\nstream\n" + packed + "\nendstream");
      }
    }
  }

  std::string out = pdf;
  if (!out.ends_with('\n')) out += '\n';
  std::map<int, std::pair<std::size_t, int>> offsets;  // object → offset, generation
  auto object = [&](ObjectId id, const std::string& body) {
    offsets[id.first] = {out.size(), id.second};
    out += fmt::format("{} {} obj\n", id.first, id.second);
    out += body;
    out += "\nendobj\n";
  };
  auto metadata = xmp(d);
  object(root_id, dictionary(catalog));
  object(metadata_id,
         fmt::format("<< /Type /Metadata /Subtype /XML /Length {} >>\nstream\n{}\nendstream",
                     metadata.size(), metadata));
  object(info_id, dictionary(info));
  for (const auto& [id, entries] : changed) object(id, dictionary(entries));
  for (const auto& [id, body] : streams) object(id, body);
  auto xref = out.size();
  out += "xref\n";
  for (const auto& [number, at] : offsets)
    out += fmt::format("{} 1\n{:010} {:05} n\r\n", number, at.first, at.second);
  int new_size = std::max(size, std::max(metadata_id.first, info_id.first) + 1);
  out += fmt::format("trailer\n<< /Size {} /Root {} {} R /Info {} {} R /Prev {}", new_size,
                     root_id.first, root_id.second, info_id.first, info_id.second, previous);
  if (q.has(trailer, "/ID")) out += " /ID " + q.unparse(q.key(trailer, "/ID"));
  out += fmt::format(" >>\nstartxref\n{}\n%%EOF\n", xref);
  return out;
}

}  // namespace mvsp::forms::pdf
