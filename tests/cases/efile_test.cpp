// The e-file hand-over: the xdomea message validates against the published 3.0.0 schemas
// and carries the record's text unharmed, the ZIP holds the message and every document
// under the specification's names with the same bytes (read back with unzip, not with our
// own library), the import folder writes once and never overwrites, and the CMIS adapter
// files each container once in its SIMULATOR.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mvsp/cases/cmis_simulator.hpp>
#include <mvsp/cases/efile.hpp>
#include <mvsp/cases/efile_targets.hpp>
#include <mvsp/core/crypto.hpp>
#include <set>
#include <sstream>

#include "http_client.hpp"
#include "support.hpp"

namespace mvsp::cases {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kProcessId = "0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr const char* kOtherProcessId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
// Titles and names with what XML escapes and what German needs.
constexpr const char* kServiceTitle = "Anmeldung <Zweitwohnung> & Gebühren für Straßenreinigung";
constexpr const char* kNoticeTitle = "Bescheid über \"Ermäßigung\" <§ 3> & Rückzahlung";
constexpr const char* kNoticeFilename = "Bescheid Müller & Söhne <2026>.pdf";

core::TimePoint at(std::int64_t seconds) {
  return core::from_millis(seconds * 1000);
}

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s + "%PDF-1.7\n";
}

EfileRecord record() {
  EfileRecord r;
  r.case_id = "k0000000000000000000000001";
  r.reference = "MV-35CA3-4HFYVHOK";
  r.aktenzeichen = "32.1-0815/2026";
  r.title = kServiceTitle;
  r.authority_id = "authority-schwerin";
  r.authority_name = "Landeshauptstadt Schwerin – Bürgerbüro";
  r.applicant_name = "Jürgen Groß & Söhne <GbR>";
  r.opened_at = at(1'790'000'000);
  r.closed_at = at(1'791'000'000);
  r.state = "decided";
  r.filing_location = "\\\\dms\\eingang";
  r.documents = {
      {.id = "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
       .title = "Antrag",
       .filename = "antrag.pdf",
       .media_type = "application/pdf",
       .content = all_bytes(),
       .created_at = at(1'790'000'000),
       .kind = "Antrag"},
      {.id = "position-2",  // not a UUID: derived
       .title = "Foto für den Ausweis",
       .filename = "Foto Jürgen.JPG",
       .media_type = "image/jpeg",
       .content = std::string("\xFF\xD8\xFF\xE0 jpeg \0 bytes", 18),
       .created_at = at(1'790'000'100),
       .kind = "Anlage"},
      {.id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
       .title = kNoticeTitle,
       .filename = kNoticeFilename,
       .media_type = "application/pdf",
       .content = "%PDF-1.7 Bescheid",
       .created_at = at(1'791'000'000),
       .kind = "Bescheid"},
      {.id = "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
       .title = "Nachweis",
       .filename = "nachweis",  // no extension: from the media type
       .media_type = "application/vnd.example+cbor",
       .content = "cbor",
       .created_at = at(1'790'000'200),
       .kind = "Anlage"},
  };
  return r;
}

constexpr const char* kSchemas = "interop/xdomea/3.0.0/schema";

std::string schema_dir() {
  return test::reference_dir() + "/" + kSchemas;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

std::string output_of(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  while (auto n = fread(buffer.data(), 1, buffer.size(), pipe.get())) out.append(buffer.data(), n);
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

std::vector<std::string> entries_of(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class Efile : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& content) {
    auto p = dir_.path() / name;
    write_file(p, content);
    return p;
  }
  // The string value of an XPath expression on the message; names by local-name(), as
  // xmllint cannot bind the xdomea prefix.
  std::string xpath(const fs::path& xml, const std::string& expression) {
    auto out =
        output_of(fmt::format("xmllint --xpath {} {}", quoted(expression), quoted(xml.string())));
    if (out.ends_with('\n')) out.pop_back();  // xmllint ends the value with a line break
    return out;
  }
  test::TempDir dir_;
};

TEST_F(Efile, TheMessageValidatesAgainstTheXdomeaSchemas) {
  if (!test::reference_available(kSchemas)) GTEST_SKIP() << "no xdomea schemas";
  ASSERT_EQ(run("command -v xmllint"), 0) << "xmllint (libxml2-utils) is missing";
  ASSERT_TRUE(fs::exists(schema_dir() + "/xdomea.xsd")) << schema_dir();
  auto c = make_efile_container(record(), kProcessId, at(1'791'000'500));
  ASSERT_TRUE(c) << c.error().message;
  auto xml = write("message.xml", c->xml);
  for (auto schema : {"xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd", "xdomea.xsd"}) {
    EXPECT_EQ(run(fmt::format("xmllint --noout --schema {}/{} {}", quoted(schema_dir()), schema,
                              quoted(xml.string()))),
              0)
        << schema << "\n"
        << c->xml;
  }
  // The check can fail: without a required element the same schema refuses the message.
  auto broken = c->xml;
  auto stapel = broken.find("<xdomea:Stapel>0</xdomea:Stapel>");
  ASSERT_NE(stapel, std::string::npos);
  broken.erase(stapel, std::string_view("<xdomea:Stapel>0</xdomea:Stapel>").size());
  auto bad = write("broken.xml", broken);
  EXPECT_NE(run(fmt::format("xmllint --noout --schema {}/xdomea.xsd {}", quoted(schema_dir()),
                            quoted(bad.string()))),
            0);

  // A minimal record (no documents, no dates, nothing optional) is a valid message too.
  EfileRecord small{.case_id = "3f2504e0-4f89-11d3-9a0c-0305e82c3309",
                    .reference = "MV-00000-00000001",
                    .title = "Hundesteuer",
                    .authority_name = "Amt Crivitz"};
  auto minimal = make_efile_container(small, kOtherProcessId, at(1'791'000'500));
  ASSERT_TRUE(minimal) << minimal.error().message;
  auto minimal_xml = write("minimal.xml", minimal->xml);
  EXPECT_EQ(run(fmt::format("xmllint --noout --schema {}/xdomea.xsd {}", quoted(schema_dir()),
                            quoted(minimal_xml.string()))),
            0)
      << minimal->xml;
}

TEST_F(Efile, TheMessageIsFVDatenSGOAblegenAndCarriesTheRecordsText) {
  auto r = record();
  auto c = make_efile_container(r, kProcessId, at(1'791'000'500));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->message_type, "FVDaten.SGOAblegen.0605");
  EXPECT_EQ(c->process_id, kProcessId);
  EXPECT_EQ(c->reference, r.reference);
  EXPECT_TRUE(c->xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")) << c->xml;
  EXPECT_NE(c->xml.find(
                "<xdomea:FVDaten.SGOAblegen.0605 xmlns:xdomea=\"urn:xoev-de:xdomea:schema:3.0.0\""),
            std::string::npos)
      << c->xml;
  // Escaped in the text, as it must be, and nowhere raw.
  EXPECT_EQ(c->xml.find("<Zweitwohnung>"), std::string::npos);
  EXPECT_NE(c->xml.find("Anmeldung &lt;Zweitwohnung&gt; &amp; Gebühren"), std::string::npos);

  auto xml = write("message.xml", c->xml);
  auto text = [&](const std::string& e) { return xpath(xml, "string(" + e + ")"); };
  EXPECT_EQ(text("//*[local-name()='Kopf']/*[local-name()='ProzessID']"), kProcessId);
  EXPECT_EQ(text("//*[local-name()='Nachrichtentyp']/code"), "0605");
  EXPECT_EQ(text("//*[local-name()='Erstellungszeitpunkt']"), "2026-10-03T04:08:20Z");
  EXPECT_EQ(text("//*[local-name()='Absender']//*[local-name()='Name']"), r.authority_name);
  EXPECT_EQ(text("//*[local-name()='FachverfahrenObjektID']"), r.reference);
  EXPECT_EQ(text("//*[local-name()='Ablageort']"), r.filing_location);
  EXPECT_EQ(text("//*[local-name()='Vorgang']/*[local-name()='AllgemeineMetadaten']/"
                 "*[local-name()='Betreff']"),
            kServiceTitle);
  EXPECT_EQ(text("//*[local-name()='Vorgang']/*[local-name()='AllgemeineMetadaten']/"
                 "*[local-name()='Kennzeichen']"),
            r.aktenzeichen);
  // The case id is no UUID, so the Vorgang's id is derived from it, the same every time.
  EXPECT_EQ(
      text("//*[local-name()='Vorgang']/*[local-name()='Identifikation']/*[local-name()='ID']"),
      efile_uuid("vorgang/" + r.case_id));
  EXPECT_EQ(text("//*[local-name()='Feld'][*[local-name()='Name']='Antragsteller']/"
                 "*[local-name()='Wert']"),
            r.applicant_name);
  EXPECT_EQ(text("count(//*[local-name()='Dokument'])"), "4");
  auto doc = [&](int n, const std::string& path) {
    return text(fmt::format("(//*[local-name()='Dokument'])[{}]/{}", n, path));
  };
  EXPECT_EQ(doc(3, "*[local-name()='AllgemeineMetadaten']/*[local-name()='Betreff']"),
            kNoticeTitle);
  EXPECT_EQ(doc(3, "*[local-name()='Typ']"), "Bescheid");
  EXPECT_EQ(doc(3, "*[local-name()='Identifikation']/*[local-name()='ID']"), r.documents[2].id);
  EXPECT_EQ(
      doc(3, "*[local-name()='Identifikation']/*[local-name()='NummerImUebergeordnetenContainer']"),
      "3");
  EXPECT_EQ(doc(3, "/*[local-name()='DateinameOriginal']"), kNoticeFilename);
  EXPECT_EQ(doc(3, "/*[local-name()='Dateiname']"), r.documents[2].id + ".pdf");
  EXPECT_EQ(doc(1, "/*[local-name()='Format']/*[local-name()='Name']/code"), "018");  // pdf
  EXPECT_EQ(doc(2, "/*[local-name()='Format']/*[local-name()='Name']/code"), "011");  // jpg
  EXPECT_EQ(doc(2, "*[local-name()='Identifikation']/*[local-name()='ID']"),
            efile_uuid(r.case_id + "/document/position-2"));
  // An unknown format is "Sonstiges", named by its media type.
  EXPECT_EQ(doc(4, "/*[local-name()='Format']/*[local-name()='Name']/code"), "100");
  EXPECT_EQ(doc(4, "/*[local-name()='SonstigerName']"), "application/vnd.example+cbor");
  EXPECT_EQ(doc(4, "/*[local-name()='Dateiname']"), r.documents[3].id + ".bin");
}

TEST_F(Efile, TheZipHoldsTheMessageAndEveryDocumentUnderTheSpecificationsNames) {
  ASSERT_EQ(run("command -v unzip"), 0) << "unzip is missing";
  auto r = record();
  auto c = make_efile_container(r, kProcessId, at(1'791'000'500));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->zip_name, std::string(kProcessId) + "_FVDaten.SGOAblegen.0605.zip");
  auto zip = write(c->zip_name, c->zip);
  EXPECT_EQ(run("unzip -tq " + quoted(zip.string())), 0) << "the archive or a CRC is broken";

  auto message_name = std::string(kProcessId) + "_FVDaten.SGOAblegen.0605.xml";
  std::set<std::string> expected{
      message_name,
      r.documents[0].id + ".pdf",
      efile_uuid(r.case_id + "/document/position-2") + ".jpg",
      r.documents[2].id + ".pdf",
      r.documents[3].id + ".bin",
  };
  std::set<std::string> listed;
  std::istringstream names(output_of("unzip -Z1 " + quoted(zip.string())));
  for (std::string line; std::getline(names, line);) listed.insert(line);
  EXPECT_EQ(listed, expected);

  auto entry = [&](const std::string& name) {
    return output_of(fmt::format("unzip -p {} {}", quoted(zip.string()), quoted(name)));
  };
  EXPECT_EQ(entry(message_name), c->xml);
  EXPECT_EQ(entry(r.documents[0].id + ".pdf"), r.documents[0].content);
  EXPECT_EQ(entry(efile_uuid(r.case_id + "/document/position-2") + ".jpg"), r.documents[1].content);
  EXPECT_EQ(entry(r.documents[2].id + ".pdf"), r.documents[2].content);
  EXPECT_EQ(entry(r.documents[3].id + ".bin"), r.documents[3].content);

  // Every file the message names is in the ZIP, and the message names every other file.
  auto xml = write("message.xml", c->xml);
  std::set<std::string> named{message_name};
  for (int i = 1; i <= 4; ++i) {
    named.insert(xpath(xml, fmt::format("string((//*[local-name()='Dateiname'])[{}])", i)));
  }
  EXPECT_EQ(named, listed);
}

TEST_F(Efile, TheSameRecordGivesTheSameBytes) {
  auto a = make_efile_container(record(), kProcessId, at(1'791'000'500));
  auto b = make_efile_container(record(), kProcessId, at(1'791'000'500));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->xml, b->xml);
  EXPECT_EQ(a->zip, b->zip);
  auto other = make_efile_container(record(), kOtherProcessId, at(1'791'000'500));
  ASSERT_TRUE(other);
  EXPECT_NE(other->zip_name, a->zip_name);
}

TEST_F(Efile, AnIncompleteRecordIsRefusedNamingTheFields) {
  auto r = record();
  r.title.clear();
  r.reference = "MV/../etc";
  r.documents[1].id = r.documents[0].id;
  r.documents[2].filename.clear();
  auto c = make_efile_container(r, "not-a-uuid", at(1'791'000'500));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, core::ErrorCode::invalid_input);
  std::set<std::string> fields;
  for (const auto& f : c.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"process_id", "title", "reference", "documents[1].id",
                                           "documents[2].filename"}));
}

TEST_F(Efile, TextThatXmlCannotCarryIsRepairedNotRefused) {
  if (!test::reference_available(kSchemas)) GTEST_SKIP() << "no xdomea schemas";
  auto r = record();
  r.title = std::string("Bad \x01 control and \xC3 broken UTF-8");
  auto c = make_efile_container(r, kProcessId, at(1'791'000'500));
  ASSERT_TRUE(c) << c.error().message;
  auto xml = write("message.xml", c->xml);
  EXPECT_EQ(run(fmt::format("xmllint --noout --schema {}/xdomea.xsd {}", quoted(schema_dir()),
                            quoted(xml.string()))),
            0)
      << c->xml;
}

TEST(EfileUuid, IsStableAndAVersion8Uuid) {
  auto a = efile_uuid("vorgang/k1");
  EXPECT_EQ(a, efile_uuid("vorgang/k1"));
  EXPECT_NE(a, efile_uuid("vorgang/k2"));
  EXPECT_TRUE(is_uuid(a)) << a;
  EXPECT_EQ(a[14], '8') << a;
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;
  EXPECT_FALSE(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
  EXPECT_FALSE(is_uuid("0f8fad5b-d9cb-469f-a165x70867728950e"));
  EXPECT_TRUE(is_uuid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
}

// --- the import folder ---

class ImportFolder : public Efile {
 protected:
  void SetUp() override {
    auto c = make_efile_container(record(), kProcessId, at(1'791'000'500));
    ASSERT_TRUE(c) << c.error().message;
    container_ = *c;
    inbox_ = dir_.path() / "eingang";
    fs::create_directory(inbox_);
  }
  EfileContainer container_;
  fs::path inbox_;
};

TEST_F(ImportFolder, WritesTheZipOnceWithMode0640AndNoTemporaryFileLeft) {
  auto target = make_import_folder_target({.directory = inbox_.string()});
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ((*target)->name(), "import-folder:" + inbox_.string());
  auto umask = ::umask(077);  // the mode must not depend on the umask
  auto delivered = (*target)->deliver(container_);
  ::umask(umask);
  ASSERT_TRUE(delivered) << delivered.error().message << " " << delivered.error().detail;
  EXPECT_EQ(entries_of(inbox_), std::vector<std::string>{container_.zip_name});
  auto file = inbox_ / container_.zip_name;
  EXPECT_EQ(read_file(file), container_.zip);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // The job ran twice: the same container is there already, which is success.
  auto again = (*target)->deliver(container_);
  EXPECT_TRUE(again) << again.error().message;
  EXPECT_EQ(entries_of(inbox_), std::vector<std::string>{container_.zip_name});
}

TEST_F(ImportFolder, NeverOverwritesAnotherFileOfTheSameName) {
  auto target = make_import_folder_target({.directory = inbox_.string()});
  ASSERT_TRUE(target);
  write_file(inbox_ / container_.zip_name, "the DMS's own file");
  auto delivered = (*target)->deliver(container_);
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(read_file(inbox_ / container_.zip_name), "the DMS's own file");
  EXPECT_EQ(entries_of(inbox_), std::vector<std::string>{container_.zip_name})
      << "no temporary file may stay behind";
}

TEST_F(ImportFolder, RefusesADirectoryThatIsMissingOrNoDirectory) {
  auto missing = make_import_folder_target({.directory = (dir_.path() / "nowhere").string()});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::invalid_input);
  ASSERT_EQ(missing.error().fields.size(), 1u);
  EXPECT_EQ(missing.error().fields[0].field, "directory");
  EXPECT_NE(missing.error().message.find("existiert nicht"), std::string::npos)
      << missing.error().message;

  auto file = write("a-file", "x");
  auto not_dir = make_import_folder_target({.directory = file.string()});
  ASSERT_FALSE(not_dir);
  EXPECT_NE(not_dir.error().message.find("kein Verzeichnis"), std::string::npos)
      << not_dir.error().message;

  EXPECT_FALSE(make_import_folder_target({.directory = ""}));
}

TEST_F(ImportFolder, RefusesADirectoryItMayNotWriteTo) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may write anywhere";
  fs::permissions(inbox_, fs::perms::owner_read | fs::perms::owner_exec);
  auto target = make_import_folder_target({.directory = inbox_.string()});
  fs::permissions(inbox_, fs::perms::owner_all);
  ASSERT_FALSE(target);
  EXPECT_NE(target.error().message.find("nicht schreiben"), std::string::npos)
      << target.error().message;
}

TEST_F(ImportFolder, AShareThatWentAwayIsWorthARetry) {
  auto target = make_import_folder_target({.directory = inbox_.string()});
  ASSERT_TRUE(target);
  fs::remove(inbox_);
  auto delivered = (*target)->deliver(container_);
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, core::ErrorCode::unavailable);
  fs::create_directory(inbox_);
  EXPECT_TRUE((*target)->deliver(container_));
  EXPECT_EQ(read_file(inbox_ / container_.zip_name), container_.zip);
}

// --- CMIS, against its SIMULATOR ---

constexpr const char* kFolder = "/Eingang/Online-Anträge";

class Cmis : public ::testing::Test {
 protected:
  void SetUp() override {
    simulator_.add_folder(kFolder);
    simulator_.start();
    auto c = make_efile_container(record(), kProcessId, at(1'791'000'500));
    ASSERT_TRUE(c) << c.error().message;
    container_ = *c;
  }
  std::unique_ptr<EfileTarget> target(std::string password = "geheim",
                                      std::string folder = kFolder) {
    auto t = make_cmis_target({.repository_url = simulator_.repository_url(),
                               .folder_path = std::move(folder),
                               .user = "dms-mvsp",
                               .password = std::move(password)},
                              app::network_http(5s));
    EXPECT_TRUE(t) << t.error().message;
    return t ? std::move(*t) : nullptr;
  }
  std::string case_folder() const { return std::string(kFolder) + "/" + container_.reference; }

  test::ManualClock clock_;
  test::SequenceIds ids_;
  CmisSimulator simulator_{{.user = "dms-mvsp", .password = "geheim", .page_size = 1},
                           {.clock = clock_, .ids = ids_, .http = app::network_http}};
  EfileContainer container_;
};

TEST_F(Cmis, CreatesTheFolderAndTheDocumentOnceEvenWhenCalledTwice) {
  auto t = target();
  ASSERT_TRUE(t);
  auto first = t->deliver(container_);
  ASSERT_TRUE(first) << first.error().message << " " << first.error().detail;
  auto second = t->deliver(container_);
  ASSERT_TRUE(second) << second.error().message << " " << second.error().detail;
  EXPECT_EQ(simulator_.folders_created(), 1u);
  EXPECT_EQ(simulator_.documents_created(), 1u);

  auto folder = simulator_.object(case_folder());
  ASSERT_TRUE(folder);
  EXPECT_EQ(folder->base_type, "cmis:folder");
  auto doc = simulator_.object(case_folder() + "/" + container_.zip_name);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->base_type, "cmis:document");
  EXPECT_EQ(doc->content_type, "application/zip");
  EXPECT_EQ(doc->content, container_.zip);
}

TEST_F(Cmis, FindsItsDocumentBeyondTheFirstPageOfChildren) {
  auto t = target();
  ASSERT_TRUE(t);
  // A second container of the same Vorgang (another process) lands in the same folder;
  // with one child per page, each look must page through both.
  auto other = make_efile_container(record(), kOtherProcessId, at(1'791'000'600));
  ASSERT_TRUE(other);
  for (const auto* c : {&container_, other.operator->(), &container_, other.operator->()}) {
    auto delivered = t->deliver(*c);
    ASSERT_TRUE(delivered) << delivered.error().message << " " << delivered.error().detail;
  }
  EXPECT_EQ(simulator_.folders_created(), 1u);
  EXPECT_EQ(simulator_.documents_created(), 2u);
}

TEST_F(Cmis, RefusesWrongCredentialsAsUnauthenticated) {
  auto t = target("falsch");
  ASSERT_TRUE(t);
  auto delivered = t->deliver(container_);
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, core::ErrorCode::unauthenticated);
  EXPECT_EQ(simulator_.folders_created(), 0u);
  EXPECT_EQ(simulator_.documents_created(), 0u);
}

TEST_F(Cmis, AUserWithoutTheRightToWriteIsForbidden) {
  auto t = target();
  ASSERT_TRUE(t);
  simulator_.set_mode(CmisSimulator::Mode::read_only);
  auto delivered = t->deliver(container_);
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, core::ErrorCode::forbidden);
  EXPECT_EQ(simulator_.folders_created(), 0u);
}

TEST_F(Cmis, AMissingTargetFolderIsNotFound) {
  auto t = target("geheim", "/Eingang/gibt-es-nicht");
  ASSERT_TRUE(t);
  auto delivered = t->deliver(container_);
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, core::ErrorCode::not_found);
  EXPECT_NE(delivered.error().message.find("/Eingang/gibt-es-nicht"), std::string::npos);
  EXPECT_EQ(simulator_.documents_created(), 0u);
}

TEST_F(Cmis, ADmsThatIsDownOrUnreachableIsWorthARetry) {
  auto t = target();
  ASSERT_TRUE(t);
  simulator_.set_mode(CmisSimulator::Mode::unavailable);
  auto down = t->deliver(container_);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, core::ErrorCode::unavailable);
  simulator_.set_mode(CmisSimulator::Mode::normal);
  EXPECT_TRUE(t->deliver(container_));

  auto nowhere = make_cmis_target(
      {.repository_url = fmt::format("http://127.0.0.1:{}/browser/x", test::unused_port()),
       .folder_path = kFolder,
       .user = "dms-mvsp",
       .password = "geheim"},
      app::network_http(5s));
  ASSERT_TRUE(nowhere);
  auto unreachable = (*nowhere)->deliver(container_);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, core::ErrorCode::unavailable);
}

TEST_F(Cmis, AFileInPlaceOfTheVorgangsFolderIsAConflict) {
  // An earlier hand-over's document happens to carry the reference number as its name.
  auto odd = container_;
  odd.zip_name = container_.reference;
  odd.reference = "MV-00000-00000001";
  auto t = target();
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->deliver(odd));
  auto moved = make_cmis_target({.repository_url = simulator_.repository_url(),
                                 .folder_path = std::string(kFolder) + "/MV-00000-00000001",
                                 .user = "dms-mvsp",
                                 .password = "geheim"},
                                app::network_http(5s));
  ASSERT_TRUE(moved);
  auto delivered = (*moved)->deliver(container_);
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, core::ErrorCode::conflict);
}

TEST(CmisOptions, AreCheckedWhenTheTargetIsMade) {
  auto t = make_cmis_target({.repository_url = "ftp://dms", .folder_path = "Eingang"},
                            app::network_http(5s));
  ASSERT_FALSE(t);
  std::set<std::string> fields;
  for (const auto& f : t.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"repository_url", "folder_path", "user"}));
  // the password travels over https only (plain http to this machine), and never in the
  // address, which the logs and the timeline name
  for (auto url :
       {"http://dms.example.org/cmis/browser/repo", "https://svc:geheim@dms.example.org/cmis",
        "http://127.0.0.1.example.org/cmis", "https://"}) {
    auto refused = make_cmis_target(
        {.repository_url = url, .folder_path = "/Eingang", .user = "svc", .password = "geheim"},
        app::network_http(5s));
    ASSERT_FALSE(refused) << url;
    EXPECT_EQ(refused.error().fields.at(0).field, "repository_url") << url;
  }
  for (auto url : {"https://dms.example.org/cmis/browser/repo", "http://127.0.0.1:8099/browser/x",
                   "http://[::1]:8099/browser/x"}) {
    EXPECT_TRUE(make_cmis_target(
        {.repository_url = url, .folder_path = "/Eingang", .user = "svc", .password = "geheim"},
        app::network_http(5s)))
        << url;
  }
}

TEST_F(Cmis, TheSimulatorSaysWhatItIs) {
  auto answer = app::network_http(5s)(
      "GET", simulator_.base_url() + "/",
      {{"Authorization", "Basic " + core::crypto::base64("dms-mvsp:geheim")}}, "");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_NE(answer->body.find("SIMULATOR – kein echtes DMS"), std::string::npos);
  auto refused = app::network_http(5s)("GET", simulator_.base_url() + "/", {}, "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
}

}  // namespace
}  // namespace mvsp::cases
