#include <mvsp/forms/pdf.hpp>
// The PDF of a form: its blocks (title, facts, a heading and a table per page of the form,
// the figure) on the canvas that the letter uses too (pdf_canvas.hpp).

#include <cairo-pdf.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/core/text.hpp>

#include "pdf_canvas.hpp"

namespace mvsp::forms {

namespace {

using pdf::Canvas;
using pdf::Layout;

constexpr double kLabelWidth = 190;
constexpr double kGap = 12;
constexpr double kRowPadding = 4;
// A figure of modules is 45 mm wide with its quiet zone: a module of the largest GiroCode
// (version 13, 69 modules and 8 of quiet zone) is then 0.58 mm, of a short one about 1 mm.
constexpr double kFigureWidth = 127.56;
constexpr int kQuietZone = 4;  // modules of light margin (ISO/IEC 18004)

// The form's blocks on the shared canvas: headings and facts, rows of answers, bookmarks,
// the figure.
class Writer {
 public:
  Writer(cairo_surface_t* surface, cairo_t* cr) : cr_(cr), canvas_(surface, cr, pdf::Frame{}) {}

  void block(const char* tag, const std::string& text, double size, bool bold, double after) {
    auto layout = canvas_.text(text, size, bold, width());
    auto height = Canvas::height_of(layout);
    canvas_.fit(height);
    canvas_.draw(tag, layout, left(), canvas_.y());
    canvas_.space(height + after);
  }

  // A row of the answers' table: the label (TH) and the answer (TD) side by side.
  void row(const std::string& label, const std::string& value, bool blank) {
    double value_width = width() - kLabelWidth - kGap;
    auto label_layout = canvas_.text(label, 10, true, kLabelWidth);
    auto value_layout = canvas_.text(blank ? std::string("\n\n") : value, 10, false, value_width);
    auto height = std::max(Canvas::height_of(label_layout), Canvas::height_of(value_layout));
    canvas_.fit(height + 2 * kRowPadding);
    double y = canvas_.y();
    canvas_.begin("TR");
    canvas_.draw("TH", label_layout, left(), y + kRowPadding);
    if (blank) {
      canvas_.begin("TD");
      canvas_.end("TD");
      // the box to write in says nothing itself: unmarked content fails PDF/UA
      canvas_.artifact(pdf::Artifact::layout, [&](cairo_t* cr) {
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_rectangle(cr, left() + kLabelWidth + kGap, y + kRowPadding, value_width, height);
        cairo_set_line_width(cr, 0.5);
        cairo_stroke(cr);
      });
    } else {
      canvas_.draw("TD", value_layout, left() + kLabelWidth + kGap, y + kRowPadding);
    }
    canvas_.end("TR");
    canvas_.space(height + 2 * kRowPadding);
  }

  // A bookmark to where the next block starts.
  void bookmark(const std::string& title, double space_needed) {
    canvas_.fit(space_needed);
    auto link = fmt::format("page={} pos=[{} {}]", canvas_.page(), left(), canvas_.y());
    cairo_pdf_surface_add_outline(canvas_.surface(), CAIRO_PDF_OUTLINE_ROOT, title.c_str(),
                                  link.c_str(), static_cast<cairo_pdf_outline_flags_t>(0));
  }

  void space(double points) { canvas_.space(points); }
  void begin(const char* tag) { canvas_.begin(tag); }
  void end(const char* tag) { canvas_.end(tag); }

  // The figure's modules, each row's dark runs as one rectangle and all of them filled as one
  // path (squares filled one by one show hairline seams in some viewers), then the caption.
  void figure(const PdfFigure& f) {
    auto n = f.modules.size();
    double module = kFigureWidth / static_cast<double>(n + 2 * kQuietZone);
    auto caption = canvas_.text(f.caption, 10, false, width());
    canvas_.fit(kFigureWidth + (f.caption.empty() ? 0 : Canvas::height_of(caption)));
    double x = left() + kQuietZone * module;
    double top = canvas_.y() + kQuietZone * module;
    canvas_.begin("Figure");
    for (std::size_t r = 0; r < n; ++r) {
      const auto& row = f.modules[r];
      for (std::size_t c = 0; c < n;) {
        if (!row[c]) {
          ++c;
          continue;
        }
        auto start = c;
        while (c < n && row[c]) ++c;
        cairo_rectangle(cr_, x + static_cast<double>(start) * module,
                        top + static_cast<double>(r) * module,
                        static_cast<double>(c - start) * module, module);
      }
    }
    cairo_fill(cr_);
    canvas_.end("Figure");
    canvas_.space(kFigureWidth);
    if (!f.caption.empty()) {
      canvas_.draw("P", caption, left(), canvas_.y());
      canvas_.space(Canvas::height_of(caption));
    }
  }

 private:
  double left() const { return canvas_.frame().left; }
  double width() const { return canvas_.frame().width; }

  cairo_t* cr_;
  Canvas canvas_;
};

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
  bool blank = !d.sections.empty() &&
               std::all_of(d.sections.begin(), d.sections.end(), [](const SummarySection& s) {
                 return std::all_of(s.rows.begin(), s.rows.end(),
                                    [](const SummaryRow& r) { return r.value.empty(); });
               });
  auto raw = pdf::draw_document(d.title, [&](cairo_surface_t* surface, cairo_t* cr) {
    Writer w(surface, cr);
    w.block("H1", d.title, 18, true, 8);
    for (const auto& fact : d.facts) w.block("P", fact, 10, false, 2);
    w.space(12);
    for (const auto& s : d.sections) {
      w.bookmark(s.title, 60);
      w.begin("Sect");
      w.block("H2", s.title, 13, true, 6);
      w.begin("Table");
      for (const auto& r : s.rows) w.row(r.label, r.value, blank);
      w.end("Table");
      w.end("Sect");
      w.space(14);
    }
    if (d.figure) w.figure(*d.figure);
  });
  std::optional<std::string> alt;
  if (d.figure) alt = d.figure->alt;
  return pdf::finish(raw, {d.title, d.language, alt});
}

}  // namespace mvsp::forms
