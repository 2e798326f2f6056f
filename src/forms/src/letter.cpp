#include <mvsp/forms/letter.hpp>
// The letter on the shared canvas (pdf_canvas.hpp), with the positions of DIN 5008 form B,
// and the reading of a letter's body from plain text.

#include <fmt/format.h>

#include <algorithm>
#include <mvsp/core/error.hpp>
#include <optional>

#include "pdf_canvas.hpp"

namespace mvsp::forms {

namespace {

using pdf::Artifact;
using pdf::Canvas;
using pdf::Layout;
using pdf::mm;

constexpr double kLeft = mm(25);
constexpr double kWidth = pdf::kPageWidth - kLeft - mm(20);
// DIN 5008 form B, from the top of the first page: the letterhead in the first 45 mm, then
// the address field of a window envelope (85 × 45 mm, 20 mm from the left edge, its text
// 5 mm in): 17.7 mm for the return line, then the recipient. The reference block to its
// right, the subject below both.
constexpr double kHeaderTop = mm(15);
constexpr double kAddressTop = mm(45);
constexpr double kRecipientTop = mm(45 + 17.7);
constexpr double kAddressWidth = mm(80);
constexpr double kInfoLeft = mm(125);
constexpr double kInfoTop = mm(50);
constexpr double kInfoWidth = pdf::kPageWidth - kInfoLeft - mm(20);
constexpr double kInfoLabelWidth = mm(28);
constexpr double kSubjectTop = mm(98.5);
// fold marks (for an envelope of DIN long) and the hole punch mark, on the left edge
constexpr double kFoldMarks[] = {mm(105), mm(210)};
constexpr double kHoleMark = mm(148.5);

constexpr double kBodySize = 11;
constexpr double kParagraphAfter = 8;
constexpr double kHeadingBefore = 8;
constexpr double kHeadingAfter = 4;
constexpr double kKeepWithHeading = 30;  // two lines of body text under a heading
constexpr double kRowPadding = 3;
constexpr double kLabelShare = 0.6;  // of the body's width, for a table's first column
constexpr double kPageNumberTop = pdf::kPageHeight - mm(14);
constexpr double kSmallSize = 8.5;

const pdf::Frame kFrame{kLeft, kWidth, mm(20), pdf::kPageHeight - mm(22)};

std::string joined(const std::vector<std::string>& lines, std::string_view separator) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += separator;
    out += line;
  }
  return out;
}

// The bottom of each line of the layout, in points from its top.
std::vector<double> line_bottoms(const Layout& layout) {
  std::vector<double> out;
  auto* iter = pango_layout_get_iter(layout.get());
  do {
    PangoRectangle logical;
    pango_layout_iter_get_line_extents(iter, nullptr, &logical);
    out.push_back(static_cast<double>(logical.y + logical.height) / PANGO_SCALE);
  } while (pango_layout_iter_next_line(iter));
  pango_layout_iter_free(iter);
  return out;
}

void show(cairo_t* cr, const Layout& layout, double x, double y) {
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout.get());
}

void rule(Canvas& c, double x, double y, double width) {
  c.artifact(Artifact::layout, [&](cairo_t* cr) {
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + width, y);
    cairo_stroke(cr);
  });
}

// Lays the letter out on the canvas; a canvas that does not draw only counts its pages.
class LetterWriter {
 public:
  LetterWriter(const PdfLetter& letter, Canvas& canvas, int pages)
      : letter_(letter), c_(canvas), pages_(pages) {
    c_.on_page_end([this](int page) { page_number(page); });
  }

  void write() {
    first_page();
    bool first = true;
    for (const auto& block : letter_.body) {
      switch (block.kind) {
        case PdfBlock::heading:
          if (!block.text.empty()) heading(block.text, first);
          break;
        case PdfBlock::paragraph:
          if (!block.text.empty()) paragraph(block.text);
          break;
        case PdfBlock::table:
          table(block.rows);
          break;
      }
      first = false;
    }
    footer();
    page_number(c_.page());
  }

 private:
  void first_page() {
    c_.artifact(Artifact::layout, [](cairo_t* cr) {
      cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
      cairo_set_line_width(cr, 0.5);
      for (double y : kFoldMarks) {
        cairo_move_to(cr, mm(4), y);
        cairo_line_to(cr, mm(9), y);
      }
      cairo_move_to(cr, mm(4), kHoleMark);
      cairo_line_to(cr, mm(11), kHoleMark);
      cairo_stroke(cr);
    });

    // The letterhead: the authority's name larger, its address under it. When it is taller
    // than its 45 mm, everything below moves down (and no longer fits a window envelope).
    double shift = 0;
    if (!letter_.sender.empty()) {
      auto head = c_.text(joined(letter_.sender, "\n"), 9, false, kWidth);
      auto* attributes = pango_attr_list_new();
      auto name_end = static_cast<guint>(letter_.sender.front().size());
      for (auto* a : {pango_attr_weight_new(PANGO_WEIGHT_BOLD),
                      pango_attr_size_new_absolute(13 * PANGO_SCALE)}) {
        a->start_index = 0;
        a->end_index = name_end;
        pango_attr_list_insert(attributes, a);
      }
      pango_layout_set_attributes(head.get(), attributes);
      pango_attr_list_unref(attributes);
      c_.draw("P", head, kLeft, kHeaderTop);
      shift = std::max(0.0, kHeaderTop + Canvas::height_of(head) + mm(3) - kAddressTop);

      // The return line in the window repeats the letterhead for the post: an artifact.
      // The name and the address, taken to be the last two lines.
      auto back_lines = letter_.sender;
      if (back_lines.size() > 3) back_lines.erase(back_lines.begin() + 1, back_lines.end() - 2);
      auto back = c_.text(joined(back_lines, " · "), 7, false, kAddressWidth);
      pango_layout_set_ellipsize(back.get(), PANGO_ELLIPSIZE_END);
      double y = kRecipientTop + shift - Canvas::height_of(back) - mm(1);
      c_.artifact(Artifact::layout, [&](cairo_t* cr) { show(cr, back, kLeft, y); });
    }

    double below = kSubjectTop + shift;
    if (!letter_.recipient.empty()) {
      auto to = c_.text(joined(letter_.recipient, "\n"), 10, false, kAddressWidth);
      c_.draw("P", to, kLeft, kRecipientTop + shift);
      below = std::max(below, kRecipientTop + shift + Canvas::height_of(to) + mm(8));
    }

    if (!letter_.references.empty()) {
      double y = kInfoTop + shift;
      c_.begin("Table");
      for (const auto& [label, value] : letter_.references) {
        auto l = c_.text(label, 8, false, kInfoLabelWidth);
        auto v = c_.text(value, 9, false, kInfoWidth - kInfoLabelWidth - mm(2));
        c_.begin("TR");
        c_.draw("TH", l, kInfoLeft, y + 0.8);  // the smaller label on the value's baseline
        c_.draw("TD", v, kInfoLeft + kInfoLabelWidth + mm(2), y);
        c_.end("TR");
        y += std::max(Canvas::height_of(l), Canvas::height_of(v)) + 2;
      }
      c_.end("Table");
      below = std::max(below, y + mm(8));
    }

    auto title = c_.text(letter_.title, 13, true, kWidth);
    c_.move_to(below);
    c_.draw("H1", title, kLeft, below);
    c_.space(Canvas::height_of(title) + 14);
  }

  void heading(const std::string& text, bool first) {
    auto layout = c_.text(text, kBodySize, true, kWidth);
    auto height = Canvas::height_of(layout);
    double before = first ? 0 : kHeadingBefore;
    if (!c_.fit(before + height + kKeepWithHeading)) c_.space(before);
    c_.draw("H2", layout, kLeft, c_.y());
    c_.space(height + kHeadingAfter);
  }

  // A paragraph that does not fit is broken between lines, with at least two of them on
  // either side; cairo 1.16 cannot carry a leaf element over a page, so the parts are
  // Spans of one P.
  void paragraph(const std::string& text) {
    auto layout = c_.text(text, kBodySize, false, kWidth);
    auto bottoms = line_bottoms(layout);
    int n = static_cast<int>(bottoms.size());
    int first = 0;
    bool broken = false;
    for (;;) {
      double top = first == 0 ? 0 : bottoms[first - 1];
      double room = c_.frame().bottom - c_.y();
      int last = first;
      while (last < n && bottoms[last] - top <= room) ++last;
      if (last == n) break;
      int here = last - first;
      if (n - last < 2) here = n - first - 2;  // no single line at the top of the next page
      if (here < 2) {
        if (c_.y() > c_.frame().top) {  // no single line at the foot of this one
          c_.new_page();
          continue;
        }
        here = std::max(last - first, 1);  // a page of one paragraph: as much as fits
      }
      if (!broken) c_.begin("P");
      broken = true;
      c_.draw_lines("Span", layout, first, first + here, kLeft, c_.y());
      first += here;
      c_.new_page();
    }
    double top = first == 0 ? 0 : bottoms[first - 1];
    if (broken) {
      c_.draw_lines("Span", layout, first, n, kLeft, c_.y());
      c_.end("P");
    } else {
      c_.draw("P", layout, kLeft, c_.y());
    }
    c_.space(bottoms.back() - top + kParagraphAfter);
  }

  void table(const std::vector<std::pair<std::string, std::string>>& rows) {
    double label_width = kWidth * kLabelShare;
    double value_left = kLeft + label_width + mm(3);
    double value_width = kWidth - label_width - mm(3);
    bool open = false;
    for (const auto& [label, value] : rows) {
      if (label.empty() && value.empty()) continue;
      auto l = c_.text(label, kBodySize, false, label_width);
      auto v = c_.text(value, kBodySize, false, value_width);
      double height = std::max(Canvas::height_of(l), Canvas::height_of(v)) + 2 * kRowPadding;
      // a rule over the table, and over its rest on the next page
      if (!open) {
        c_.fit(height);
        c_.begin("Table");
        open = true;
        rule(c_, kLeft, c_.y(), kWidth);
      } else if (c_.fit(height)) {
        rule(c_, kLeft, c_.y(), kWidth);
      }
      c_.begin("TR");
      c_.draw("TH", l, kLeft, c_.y() + kRowPadding);
      c_.draw("TD", v, value_left, c_.y() + kRowPadding);
      c_.end("TR");
      c_.space(height);
      rule(c_, kLeft, c_.y(), kWidth);
    }
    if (open) {
      c_.end("Table");
      c_.space(kParagraphAfter + 4);
    }
  }

  // The footer at the foot of the last page, under a rule, read after the body.
  void footer() {
    if (letter_.footer.empty()) return;
    auto layout = c_.text(joined(letter_.footer, "\n"), kSmallSize, false, kWidth);
    auto height = Canvas::height_of(layout);
    c_.fit(mm(6) + height);
    double y = std::max(c_.y() + mm(6), c_.frame().bottom - height);
    rule(c_, kLeft, y - mm(2), kWidth);
    c_.draw("P", layout, kLeft, y);
    c_.move_to(y + height);
  }

  void page_number(int page) {
    if (pages_ < 2) return;
    auto layout = c_.text(fmt::format("Seite {} von {}", page, pages_), kSmallSize, false, kWidth);
    pango_layout_set_alignment(layout.get(), PANGO_ALIGN_RIGHT);
    c_.artifact(Artifact::pagination,
                [&](cairo_t* cr) { show(cr, layout, kLeft, kPageNumberTop); });
  }

  const PdfLetter& letter_;
  Canvas& c_;
  int pages_;
};

}  // namespace

std::string render_letter(const PdfLetter& letter) {
  if (letter.title.empty()) throw core::Failure("pdf: a letter needs a title");
  auto raw = pdf::draw_document(letter.title, [&](cairo_surface_t* surface, cairo_t* cr) {
    // Once to count the pages ("Seite 1 von 3" needs the 3), once to draw them.
    Canvas counting(surface, cr, kFrame, false);
    LetterWriter(letter, counting, 0).write();
    Canvas canvas(surface, cr, kFrame);
    LetterWriter(letter, canvas, counting.page()).write();
  });
  return pdf::finish(raw, {letter.title, letter.language, std::nullopt});
}

namespace {

std::string_view trimmed(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// The two cells of a line "| a | b |", or nothing.
std::optional<std::pair<std::string, std::string>> table_row(std::string_view line) {
  if (line.size() < 2 || line.front() != '|' || line.back() != '|') return std::nullopt;
  auto inner = line.substr(1, line.size() - 2);
  auto bar = inner.find('|');
  if (bar == std::string_view::npos || inner.find('|', bar + 1) != std::string_view::npos)
    return std::nullopt;
  return std::pair{std::string(trimmed(inner.substr(0, bar))),
                   std::string(trimmed(inner.substr(bar + 1)))};
}

}  // namespace

std::vector<PdfBlock> letter_blocks(std::string_view text) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  std::vector<PdfBlock> blocks;
  bool open = false;  // whether the last block takes the next line of its kind
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find_first_of("\r\n", at);
    if (end == std::string_view::npos) end = text.size();
    auto line = trimmed(text.substr(at, end - at));
    at = end + (text.substr(end).starts_with("\r\n") ? 2 : 1);

    if (line.empty()) {
      open = false;
    } else if (line.starts_with("## ")) {
      auto title = trimmed(line.substr(3));
      blocks.push_back({PdfBlock::heading, std::string(title), {}});
      open = false;
    } else if (auto row = table_row(line)) {
      if (!open || blocks.back().kind != PdfBlock::table)
        blocks.push_back({PdfBlock::table, {}, {}});
      blocks.back().rows.push_back(std::move(*row));
      open = true;
    } else if (open && blocks.back().kind == PdfBlock::paragraph) {
      blocks.back().text += '\n';
      blocks.back().text += line;
    } else {
      blocks.push_back({PdfBlock::paragraph, std::string(line), {}});
      open = true;
    }
  }
  return blocks;
}

}  // namespace mvsp::forms
