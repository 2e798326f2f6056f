#pragma once
// A letter from an authority as an accessible PDF (PDF/UA-1), for decision notices
// (Bescheide) and other letters of a case. Laid out after DIN 5008 (form B) on A4: the
// authority's letterhead at the top, the address field of a window envelope on the left,
// the reference block on the right, the heading, the body flowing over as many pages as it
// needs, "Seite x von y" on every page of a letter of more than one page. Drawn and
// finished as render_pdf does (pdf.hpp): the same structure tags, /Lang, window title and
// PDF/UA identification; page numbers, rules and fold marks are artifacts.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::forms {

// A block of a letter's body.
struct PdfBlock {
  enum Kind { heading, paragraph, table };
  Kind kind = paragraph;
  std::string text;  // heading and paragraph; a line break in it is kept
  std::vector<std::pair<std::string, std::string>> rows;  // table: a row header and a value
};

struct PdfLetter {
  std::string language = "de-DE";  // /Lang
  std::string title;  // "Bescheid über die Anmeldung eines Hundes": window title and heading
  // the authority's name first, its address in the last two lines (street, town): these
  // three make the return line above the recipient
  std::vector<std::string> sender;
  std::vector<std::string> recipient;  // name and address lines in the window; may be empty
  // the reference block: "Aktenzeichen", "Ihr Antrag vom", "Datum" and their values
  std::vector<std::pair<std::string, std::string>> references;
  std::vector<PdfBlock> body;
  // after the body, at the foot of the last page: "Dieses Schreiben wurde elektronisch
  // erstellt und mit dem Siegel der Behörde versehen."
  std::vector<std::string> footer;
};

// The PDF bytes. Tags: Document; the letterhead, the recipient and the footer as P; the
// references as a Table of rows (TH label, TD value); the title as H1; headings as H2,
// paragraphs as P (a paragraph broken over a page is one P of two Spans), tables as a
// Table of rows (TH, TD). The sender's line above the address (for the envelope's window)
// repeats the letterhead and is an artifact. Empty blocks are left out. Throws
// core::Failure when the title is empty or cairo or qpdf fail.
std::string render_letter(const PdfLetter& letter);

// The body of a letter from plain text, as a clerk writes it or an authority's template
// gives it:
//  - lines are split at LF, CRLF or CR; spaces and tabs at either end of a line do not
//    count, nor does a byte order mark at the start;
//  - a line starting with "## " is a heading (the rest of the line);
//  - a line that starts and ends with "|" and holds exactly two cells, "| Gebühr | 25,00 € |",
//    is a table row; consecutive rows make one table (first cell: the row's header);
//  - other lines are text; consecutive text lines make one paragraph and keep their line
//    breaks (an address, a signature); a blank line, a heading or a table ends it.
// Nothing is an error: text that fits no other rule is a paragraph.
std::vector<PdfBlock> letter_blocks(std::string_view text);

}  // namespace mvsp::forms
