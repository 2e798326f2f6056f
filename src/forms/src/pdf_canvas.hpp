#pragma once
// What the PDFs of forms share (the answers of a form, the letter): A4 pages drawn with
// cairo and pango, each block inside its structure tag, and the qpdf pass that makes the
// file PDF/UA (language, window title, XMP identification, artifacts).

#include <pango/pangocairo.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mvsp::forms::pdf {

constexpr double kPageWidth = 595.28;  // A4 in points
constexpr double kPageHeight = 841.89;
constexpr const char* kFont = "DejaVu Sans";

constexpr double mm(double millimetres) {
  return millimetres * 72.0 / 25.4;
}

struct GObject {
  void operator()(void* o) const { g_object_unref(o); }
};
struct FontDescription {
  void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};
using Layout = std::unique_ptr<PangoLayout, GObject>;

// Content that is not part of what the document says (ISO 32000-1, 14.8.2.2): cairo 1.16
// cannot mark it, so it is drawn inside a structure tag that our documents use for nothing
// else and `finish` turns that into an artifact.
enum class Artifact {
  pagination,  // page numbers: drawn in a "Private" tag
  layout,      // rules, fold marks, the return address of a window envelope: "NonStruct"
};

// Where the text of a page goes: the left edge and width of the text, the top of each new
// page and the lowest point a block may reach.
struct Frame {
  double left = mm(20);
  double width = kPageWidth - 2 * mm(20);
  double top = mm(20);
  double bottom = kPageHeight - mm(20);
};

// Draws page by page; `y` is where the next block starts. Each text is laid out once (pango
// shapes it), measured, and drawn from the same layout. A canvas that does not draw only
// counts: it lays out and breaks pages as the drawing one will, so that the number of pages
// is known before the first page number is drawn.
class Canvas {
 public:
  Canvas(cairo_surface_t* surface, cairo_t* cr, Frame frame, bool drawing = true);

  // The text laid out `width` points wide in the document's font at `size` points.
  Layout text(const std::string& text, double size, bool bold, double width);
  static double height_of(const Layout& layout);

  // The layout at (x, y), inside the structure tag `tag`.
  void draw(const char* tag, const Layout& layout, double x, double y);
  // The lines [first, last) of the layout, their first line's top at (x, y).
  void draw_lines(const char* tag, const Layout& layout, int first, int last, double x, double y);
  // A structure element around what is drawn until `end`.
  void begin(const char* tag);
  void end(const char* tag);
  // What `paint` draws with the context, marked as an artifact of that kind. No leaf
  // structure element may be open (cairo 1.16 would lose its content).
  void artifact(Artifact kind, const std::function<void(cairo_t*)>& paint);

  // Starts a new page when a block of `height` does not fit below `y` (but not on an empty
  // page: a block taller than the frame is drawn and runs over). True when it did.
  bool fit(double height);
  void new_page();
  // Called with the page number just before a page is closed by new_page.
  void on_page_end(std::function<void(int)> call) { page_end_ = std::move(call); }

  double y() const { return y_; }
  void move_to(double y) { y_ = y; }
  void space(double points) { y_ += points; }
  int page() const { return page_; }
  const Frame& frame() const { return frame_; }
  cairo_surface_t* surface() { return surface_; }

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
  Frame frame_;
  bool drawing_;
  std::unique_ptr<PangoContext, GObject> context_;
  std::unique_ptr<PangoFontDescription, FontDescription> fonts_[2];
  std::function<void(int)> page_end_;
  double y_;
  int page_ = 1;
};

// The PDF that `draw` draws on A4 pages inside one Document element, as cairo writes it.
// Throws core::Failure when cairo fails.
std::string draw_document(const std::string& title,
                          const std::function<void(cairo_surface_t*, cairo_t*)>& draw);

// What the qpdf pass sets.
struct Finish {
  std::string title;                      // the document information and the XMP title
  std::string language;                   // /Lang
  std::optional<std::string> figure_alt;  // /Alt of every Figure element, when given
};

// Cairo's PDF made PDF/UA: /Lang, the title shown in the window, /MarkInfo, the XMP
// metadata with the PDF/UA identification, the figures' text alternative, and the content
// drawn by Canvas::artifact marked as artifacts and taken out of the structure tree.
// Throws core::Failure when qpdf cannot read the file or it is not as cairo writes it.
std::string finish(const std::string& pdf, const Finish& what);

}  // namespace mvsp::forms::pdf
