#pragma once
// The PDF of a filled form for people: tagged and accessible (PDF/UA-1). Drawn with cairo
// and pango (structure tags: document, headings, the answers as a table in reading order,
// one bookmark per page of the form) and finished with qpdf for what cairo 1.16 cannot
// set: the document language, the title shown in the window, the PDF/UA identification in
// the XMP metadata.

#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/forms/filling.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::forms {

// A figure drawn from square modules (a QR code): dark where true, rows top to bottom, as
// many rows as columns. It is drawn about 45 mm wide with a quiet zone of four modules, and
// tagged as a Figure whose text alternative (/Alt) is `alt`; the caption follows as text.
struct PdfFigure {
  std::vector<std::vector<bool>> modules;
  std::string alt;      // what the figure says, for those who cannot see it; not empty
  std::string caption;  // shown under the figure; may be empty
};

struct PdfDocument {
  std::string title;                     // the form's title: heading and window title
  std::string language = "de-DE";        // /Lang
  std::vector<std::string> facts;        // lines under the heading: version, reference, time
  std::vector<SummarySection> sections;  // one heading and one table each, a bookmark each
  std::optional<PdfFigure> figure;       // after the sections
};

// The document for a form version with its answers (Filling::summary), the reference
// number and time of submission when given; with no answers, every question of the form
// with room to write (a paper form).
PdfDocument pdf_document(const Form& form, int version, const Filling& filling,
                         const Answers& answers, const std::string& reference = {},
                         std::optional<core::TimePoint> submitted = std::nullopt);

// The PDF bytes. Throws core::Failure when cairo or qpdf fail (no fonts, no memory) or the
// figure is not square or has no text alternative.
std::string render_pdf(const PdfDocument& document);

}  // namespace mvsp::forms
