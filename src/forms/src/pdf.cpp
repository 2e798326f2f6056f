#include <mvsp/forms/pdf.hpp>
// Drawing the PDF with cairo and pango, each block inside its structure tag, and the qpdf
// pass that makes it PDF/UA: language, window title, XMP identification.

#include <cairo-pdf.h>
#include <cairo.h>
#include <fmt/format.h>
#include <pango/pangocairo.h>
#include <qpdf/qpdf-c.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mvsp/core/text.hpp>

namespace mvsp::forms {

namespace {

constexpr double kPageWidth = 595.28;  // A4 in points
constexpr double kPageHeight = 841.89;
constexpr double kMargin = 56.7;  // 2 cm
constexpr double kLabelWidth = 190;
constexpr double kGap = 12;
constexpr double kRowPadding = 4;
constexpr const char* kFont = "DejaVu Sans";
// A figure of modules is 45 mm wide with its quiet zone: a module of the largest GiroCode
// (version 13, 69 modules and 8 of quiet zone) is then 0.58 mm, of a short one about 1 mm.
constexpr double kFigureWidth = 127.56;
constexpr int kQuietZone = 4;  // modules of light margin (ISO/IEC 18004)

struct CairoSurface {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoContext {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct GObject {
  void operator()(void* o) const { g_object_unref(o); }
};
struct FontDescription {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

using Layout = std::unique_ptr<PangoLayout, GObject>;

// Writes the document page by page; `y` is where the next block starts. Each text is laid
// out once (pango shapes it), measured, and drawn from the same layout.
class Writer {
 public:
  Writer(cairo_surface_t* surface, cairo_t* cr)
      : surface_(surface), cr_(cr), context_(pango_cairo_create_context(cr)) {
    for (int bold = 0; bold < 2; ++bold) {
      fonts_[bold].reset(pango_font_description_new());
      pango_font_description_set_family(fonts_[bold].get(), kFont);
      pango_font_description_set_weight(fonts_[bold].get(),
                                        bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    }
  }

  void block(const char* tag, const std::string& text, double size, bool bold, double after) {
    auto layout = make_layout(text, size, bold, content_width());
    auto height = height_of(layout);
    fit(height);
    draw(tag, layout, kMargin, y_);
    y_ += height + after;
  }

  // A row of the answers' table: the label (TH) and the answer (TD) side by side.
  void row(const std::string& label, const std::string& value, bool blank) {
    double value_width = content_width() - kLabelWidth - kGap;
    auto label_layout = make_layout(label, 10, true, kLabelWidth);
    auto value_layout = make_layout(blank ? std::string("\n\n") : value, 10, false, value_width);
    auto height = std::max(height_of(label_layout), height_of(value_layout));
    fit(height + 2 * kRowPadding);
    cairo_tag_begin(cr_, "TR", "");
    draw("TH", label_layout, kMargin, y_ + kRowPadding);
    if (blank) {
      cairo_tag_begin(cr_, "TD", "");
      cairo_tag_end(cr_, "TD");
      cairo_set_source_rgb(cr_, 0.5, 0.5, 0.5);
      cairo_rectangle(cr_, kMargin + kLabelWidth + kGap, y_ + kRowPadding, value_width, height);
      cairo_set_line_width(cr_, 0.5);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0, 0, 0);
    } else {
      draw("TD", value_layout, kMargin + kLabelWidth + kGap, y_ + kRowPadding);
    }
    cairo_tag_end(cr_, "TR");
    y_ += height + 2 * kRowPadding;
  }

  // A bookmark to where the next block starts.
  void bookmark(const std::string& title, double space_needed) {
    fit(space_needed);
    auto link = fmt::format("page={} pos=[{} {}]", page_, kMargin, y_);
    cairo_pdf_surface_add_outline(surface_, CAIRO_PDF_OUTLINE_ROOT, title.c_str(), link.c_str(),
                                  static_cast<cairo_pdf_outline_flags_t>(0));
  }

  void space(double points) { y_ += points; }

  // The figure's modules, each row's dark runs as one rectangle and all of them filled as one
  // path (squares filled one by one show hairline seams in some viewers), then the caption.
  void figure(const PdfFigure& f) {
    auto n = f.modules.size();
    double module = kFigureWidth / static_cast<double>(n + 2 * kQuietZone);
    auto caption = make_layout(f.caption, 10, false, content_width());
    fit(kFigureWidth + (f.caption.empty() ? 0 : height_of(caption)));
    double left = kMargin + kQuietZone * module;
    double top = y_ + kQuietZone * module;
    cairo_tag_begin(cr_, "Figure", "");
    for (std::size_t r = 0; r < n; ++r) {
      const auto& row = f.modules[r];
      for (std::size_t c = 0; c < n;) {
        if (!row[c]) {
          ++c;
          continue;
        }
        auto start = c;
        while (c < n && row[c]) ++c;
        cairo_rectangle(cr_, left + static_cast<double>(start) * module,
                        top + static_cast<double>(r) * module,
                        static_cast<double>(c - start) * module, module);
      }
    }
    cairo_fill(cr_);
    cairo_tag_end(cr_, "Figure");
    y_ += kFigureWidth;
    if (!f.caption.empty()) {
      draw("P", caption, kMargin, y_);
      y_ += height_of(caption);
    }
  }

 private:
  Layout make_layout(const std::string& text, double size, bool bold, double width) {
    Layout layout(pango_layout_new(context_.get()));
    auto* font = fonts_[bold ? 1 : 0].get();
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_layout_set_font_description(layout.get(), font);
    pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), text.c_str(), static_cast<int>(text.size()));
    return layout;
  }

  static double height_of(const Layout& layout) {
    int w = 0;
    int h = 0;
    pango_layout_get_size(layout.get(), &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  void draw(const char* tag, const Layout& layout, double x, double y) {
    cairo_tag_begin(cr_, tag, "");
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout.get());
    cairo_tag_end(cr_, tag);
  }

  double content_width() const { return kPageWidth - 2 * kMargin; }

  void fit(double height) {
    if (y_ + height <= kPageHeight - kMargin || y_ <= kMargin) return;
    cairo_show_page(cr_);
    ++page_;
    y_ = kMargin;
  }

  cairo_surface_t* surface_;
  cairo_t* cr_;
  std::unique_ptr<PangoContext, GObject> context_;
  std::unique_ptr<PangoFontDescription, FontDescription> fonts_[2];
  double y_ = kMargin;
  int page_ = 1;
};

// PDF/UA-1 wants the title and the identification in XMP (ISO 14289-1, 7.1 and 5).
std::string xmp(const PdfDocument& d) {
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

// qpdf's C API: its C++ headers do not parse with clang in C++23 (clang-tidy), and reading
// a trailer and a catalog needs no more.
class QpdfReader {
 public:
  explicit QpdfReader(const std::string& pdf) : q_(qpdf_init()) {
    qpdf_set_suppress_warnings(q_, QPDF_TRUE);
    if (qpdf_read_memory(q_, "form.pdf", pdf.data(), pdf.size(), nullptr) & QPDF_ERRORS) fail();
  }
  ~QpdfReader() { qpdf_cleanup(&q_); }
  QpdfReader(const QpdfReader&) = delete;
  QpdfReader& operator=(const QpdfReader&) = delete;

  qpdf_oh trailer() { return qpdf_get_trailer(q_); }
  qpdf_oh root() { return qpdf_get_root(q_); }
  qpdf_oh key(qpdf_oh dict, const char* k) { return qpdf_oh_get_key(q_, dict, k); }
  bool has(qpdf_oh dict, const char* k) { return qpdf_oh_has_key(q_, dict, k) == QPDF_TRUE; }
  bool indirect(qpdf_oh oh) { return qpdf_oh_is_indirect(q_, oh) == QPDF_TRUE; }
  bool dictionary(qpdf_oh oh) { return qpdf_oh_is_dictionary(q_, oh) == QPDF_TRUE; }
  int number(qpdf_oh oh) { return qpdf_oh_get_int_value_as_int(q_, oh); }
  std::pair<int, int> id(qpdf_oh oh) {
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
    if (qpdf_oh_is_array(q_, element) == QPDF_TRUE) {
      int n = qpdf_oh_get_array_n_items(q_, element);
      for (int i = 0; i < n; ++i)
        find_elements(qpdf_oh_get_array_item(q_, element, i), type, found);
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

 private:
  [[noreturn]] void fail() {
    std::string why =
        qpdf_has_error(q_) ? qpdf_get_error_full_text(q_, qpdf_get_error(q_)) : "unknown";
    throw core::Failure("pdf: qpdf cannot read cairo's file: " + why);
  }
  qpdf_data q_;
};

std::string dictionary(const std::map<std::string, std::string>& entries) {
  std::string out = "<<";
  for (const auto& [k, v] : entries) out += " " + k + " " + v;
  return out + " >>";
}

// What cairo cannot set, added as an incremental update (ISO 32000-1, 7.5.6): a new
// version of the catalog with /Lang, /ViewerPreferences /DisplayDocTitle, /MarkInfo and
// the XMP metadata, and of the document information with the title. qpdf reads cairo's
// file (the trailer and the catalog only); the update goes after it. Rewriting the whole
// file through qpdf took a third of the time of a PDF.
std::string finish(const std::string& pdf, const PdfDocument& d) {
  QpdfReader q(pdf);
  auto trailer = q.trailer();
  auto root = q.root();
  auto root_id = q.id(root);
  int size = q.number(q.key(trailer, "/Size"));
  auto startxref = pdf.rfind("startxref");
  if (startxref == std::string::npos) throw core::Failure("pdf: cairo wrote no startxref");
  auto previous = std::stoll(pdf.substr(startxref + 9, 32));

  std::pair<int, int> metadata_id{size, 0};
  std::pair<int, int> info_id{size + 1, 0};
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

  // cairo 1.16 takes no attributes on structure tags: the figure's /Alt comes here. cairo
  // writes each structure element as an object of its own, so the update replaces it.
  std::vector<std::pair<std::pair<int, int>, std::string>> figures;
  if (d.figure) {
    std::vector<qpdf_oh> found;
    if (q.has(root, "/StructTreeRoot"))
      q.find_elements(q.key(q.key(root, "/StructTreeRoot"), "/K"), "/Figure", found);
    if (found.empty()) throw core::Failure("pdf: cairo wrote no Figure element");
    for (auto element : found) {
      if (!q.indirect(element)) throw core::Failure("pdf: cairo wrote a direct Figure element");
      auto entries = q.entries(element);
      entries["/Alt"] = q.text(d.figure->alt);
      figures.emplace_back(q.id(element), dictionary(entries));
    }
  }

  std::string out = pdf;
  if (!out.ends_with('\n')) out += '\n';
  std::map<int, std::pair<std::size_t, int>> offsets;  // object → offset, generation
  auto object = [&](std::pair<int, int> id, const std::string& body) {
    offsets[id.first] = {out.size(), id.second};
    out += fmt::format("{} {} obj\n{}\nendobj\n", id.first, id.second, body);
  };
  auto metadata = xmp(d);
  object(root_id, dictionary(catalog));
  object(metadata_id,
         fmt::format("<< /Type /Metadata /Subtype /XML /Length {} >>\nstream\n{}\nendstream",
                     metadata.size(), metadata));
  object(info_id, dictionary(info));
  for (const auto& [id, body] : figures) object(id, body);
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

}  // namespace

PdfDocument pdf_document(const Form& form, int version, const Filling& filling,
                         const Answers& answers, const std::string& reference,
                         std::optional<core::TimePoint> submitted) {
  PdfDocument d;
  d.title = form.title;
  d.language = form.language == "de" ? "de-DE" : form.language;
  d.facts.push_back(fmt::format("Formular „{}“, Version {}", form.key, version));
  if (!reference.empty()) d.facts.push_back("Referenznummer: " + reference);
  if (submitted) d.facts.push_back("Eingereicht am " + core::format_berlin(*submitted) + " Uhr");
  bool blank = true;
  for (const auto& [k, v] : answers) {
    if (!k.starts_with('_')) blank = false;
  }
  if (!blank) {
    d.sections = filling.summary(answers);
    return d;
  }
  // the empty form: every question that can be answered, room to write beside it
  for (const auto& p : form.pages) {
    if (p.exit) continue;
    SummarySection s{p.id, p.title, {}};
    for (const auto& q : p.questions) {
      if (q.type == QuestionType::info || q.type == QuestionType::computed) continue;
      if (q.type == QuestionType::group) {
        for (const auto& m : q.questions) {
          if (m.type != QuestionType::info && m.type != QuestionType::computed)
            s.rows.push_back(
                {q.id + "." + m.id, fmt::format("{} ({})", m.label, q.item_label), "", p.id, ""});
        }
        continue;
      }
      s.rows.push_back({q.id, q.label, "", p.id, ""});
    }
    d.sections.push_back(std::move(s));
  }
  return d;
}

std::string render_pdf(const PdfDocument& d) {
  if (d.figure) {
    const auto& modules = d.figure->modules;
    if (modules.empty() || std::any_of(modules.begin(), modules.end(), [&](const auto& row) {
          return row.size() != modules.size();
        }))
      throw core::Failure("pdf: the figure's modules are not a square");
    if (d.figure->alt.empty()) throw core::Failure("pdf: the figure has no text alternative");
  }
  std::string raw;
  bool blank = !d.sections.empty() &&
               std::all_of(d.sections.begin(), d.sections.end(), [](const SummarySection& s) {
                 return std::all_of(s.rows.begin(), s.rows.end(),
                                    [](const SummaryRow& r) { return r.value.empty(); });
               });
  {
    std::unique_ptr<cairo_surface_t, CairoSurface> surface(
        cairo_pdf_surface_create_for_stream(append, &raw, kPageWidth, kPageHeight));
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      throw core::Failure("pdf: no surface");
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, d.title.c_str());
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "mvsp");
    std::unique_ptr<cairo_t, CairoContext> cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), 0, 0, 0);
    Writer w(surface.get(), cr.get());
    cairo_tag_begin(cr.get(), "Document", "");
    w.block("H1", d.title, 18, true, 8);
    for (const auto& fact : d.facts) w.block("P", fact, 10, false, 2);
    w.space(12);
    for (const auto& s : d.sections) {
      w.bookmark(s.title, 60);
      cairo_tag_begin(cr.get(), "Sect", "");
      w.block("H2", s.title, 13, true, 6);
      cairo_tag_begin(cr.get(), "Table", "");
      for (const auto& r : s.rows) w.row(r.label, r.value, blank);
      cairo_tag_end(cr.get(), "Table");
      cairo_tag_end(cr.get(), "Sect");
      w.space(14);
    }
    if (d.figure) w.figure(*d.figure);
    cairo_tag_end(cr.get(), "Document");
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      throw core::Failure(std::string("pdf: ") +
                          cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  return finish(raw, d);
}

}  // namespace mvsp::forms
