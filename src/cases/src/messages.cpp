// Messages between the clerk and the applicant (Nachrichten): the clerk writes with
// attachments and the trust level the applicant needs to read it; the applicant is told
// through the applications component (a mailbox message or, for guests, a mail with the
// link) and answers inside the Vorhaben; the clerks who work the Vorgang are told by mail.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/core/virus_scan.hpp>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

bool takes_messages(std::string_view state) {
  auto s = parse_state(state).value_or(State::closed);
  return s != State::closed && s != State::withdrawn && s != State::ended && s != State::filed;
}

namespace {

constexpr std::size_t kMaxSubject = 200;
constexpr std::size_t kMaxBody = 10000;
// what one Vorgang takes, so that nobody grows it (and its ZIP) without end
constexpr std::int64_t kMaxMessages = 100;
constexpr std::int64_t kMaxAttachmentBytes = 50LL * 1024 * 1024;
// each of the applicant's messages mails the clerks: at most this many an hour
constexpr std::int64_t kApplicantMessagesPerHour = 10;
constexpr const char* kToApplicant = "to_applicant";
constexpr const char* kFromApplicant = "from_applicant";
constexpr const char* kMessageColumns =
    "id, case_id, direction, author_name, subject, body, required_level, created_at";

// Every rule of a message, each broken one named. The clerk's needs a subject; the
// applicant's may go without (the pages name it).
Error check(const MessageInput& in, bool from_clerk) {
  Error invalid{core::ErrorCode::invalid_input, "The message is not complete.", {}, {}};
  auto subject = core::trim(in.subject);
  if (from_clerk && subject.empty()) invalid.and_field("message_subject", "is required");
  if (subject.size() > kMaxSubject || !core::is_single_line(subject) ||
      !core::valid_utf8(subject)) {
    invalid.and_field("message_subject",
                      fmt::format("must be one line of at most {} characters", kMaxSubject));
  }
  auto body = core::trim(in.body);
  if (body.empty()) invalid.and_field("message_body", "is required");
  if (body.size() > kMaxBody || !core::valid_utf8(body)) {
    invalid.and_field("message_body", fmt::format("must be at most {} characters", kMaxBody));
  }
  if (in.required_level != "low" && in.required_level != "substantial" &&
      in.required_level != "high") {
    invalid.and_field("message_level", "must be low, substantial or high");
  }
  check_attachments(in.files, "message_files", invalid);
  return invalid;
}

std::vector<Message> load_messages(core::db::Connection& c, const std::string& case_id) {
  std::vector<Message> out;
  for (const auto& r : c.query(fmt::format("SELECT {} FROM case_messages WHERE case_id = ? "
                                           "ORDER BY seq",
                                           kMessageColumns),
                               case_id)) {
    out.push_back({.id = r.text(0),
                   .case_id = r.text(1),
                   .direction = r.text(2),
                   .author = r.text(3),
                   .subject = r.text(4),
                   .body = r.text(5),
                   .required_level = r.text(6),
                   .created_at = core::from_millis(r.integer(7)),
                   .files = {}});
  }
  for (const auto& r :
       c.query("SELECT f.message_id, f.position, f.filename, f.media_type, f.size FROM "
               "case_message_files f JOIN case_messages m ON m.id = f.message_id WHERE "
               "m.case_id = ? ORDER BY f.message_id, f.position",
               case_id)) {
    auto m = std::ranges::find(out, r.text(0), &Message::id);
    if (m == out.end()) continue;
    m->files.push_back({.position = static_cast<int>(r.integer(1)),
                        .filename = r.text(2),
                        .media_type = r.text(3),
                        .size = r.integer(4)});
  }
  return out;
}

// Stores a message with its attachments in one transaction; `load` finds the Vorgang in
// it and `after` tells whoever is to be told.
core::Result<Message> store_message(
    Casework::Impl& d, const MessageInput& in, std::string direction, std::string author_id,
    std::string author_name, const std::function<core::Result<Case>(core::db::Connection&)>& load,
    const std::function<void(core::db::Connection&, const Case&, const Message&)>& after) {
  std::vector<std::string_view> contents;
  for (const auto& f : in.files) contents.push_back(f.content);
  Message m;
  auto stored = d.cases.store_with(
      contents,
      [&](core::db::Connection& tx, const std::vector<std::string>& blobs) -> core::Status {
        auto k = load(tx);
        if (!k) return fail(k.error());
        if (!takes_messages(k->state)) {
          return fail(Error::conflict("the Vorgang is finished and takes no more messages"));
        }
        auto so_far = tx.query_one(
            "SELECT COUNT(DISTINCT m.id), COALESCE(SUM(f.size), 0) FROM case_messages m LEFT JOIN "
            "case_message_files f ON f.message_id = m.id WHERE m.case_id = ?",
            k->id);
        std::int64_t adding = 0;
        for (const auto& f : in.files) adding += static_cast<std::int64_t>(f.content.size());
        if (so_far->integer(0) >= kMaxMessages) {
          return fail(Error::invalid(
              "message_body", fmt::format("a Vorgang takes at most {} messages", kMaxMessages)));
        }
        if (direction == kFromApplicant) {
          auto recent = tx.query_one(
              "SELECT COUNT(*) FROM case_messages WHERE case_id = ? AND direction = ? AND "
              "created_at > ?",
              k->id, std::string(kFromApplicant),
              core::to_millis(d.clock.now() - std::chrono::hours(1)));
          if (recent->integer(0) >= kApplicantMessagesPerHour) {
            return fail(Error::rate_limited(
                fmt::format("at most {} messages an hour", kApplicantMessagesPerHour),
                std::chrono::hours(1)));
          }
        }
        if (so_far->integer(1) + adding > kMaxAttachmentBytes) {
          return fail(
              Error::invalid("message_files", "a Vorgang takes at most 50 MB of attachments"));
        }
        m = {.id = d.ids.key(),
             .case_id = k->id,
             .direction = direction,
             .author = author_name,
             .subject = std::string(core::trim(in.subject)),
             .body = std::string(core::trim(in.body)),
             .required_level = in.required_level,
             .created_at = d.clock.now(),
             .files = {}};
        auto next = tx.query_one(
            "SELECT COALESCE(MAX(seq) + 1, 1) FROM case_messages WHERE case_id = ?", k->id);
        tx.execute(fmt::format("INSERT INTO case_messages ({}, author_id, seq) VALUES (?, ?, ?, "
                               "?, ?, ?, ?, ?, ?, ?)",
                               kMessageColumns),
                   m.id, m.case_id, m.direction, m.author, m.subject, m.body, m.required_level,
                   core::to_millis(m.created_at), author_id, next->integer(0));
        m.files = insert_attachments(tx, kMessageFiles, m.id, in.files, blobs);
        d.record(tx, author_id, author_name, *k,
                 direction == kToApplicant ? "case.message_sent" : "case.message_received",
                 {{"message", m.id},
                  {"title", m.subject},
                  {"attachments", std::to_string(m.files.size())}});
        after(tx, *k, m);
        return {};
      });
  if (!stored) return fail(stored.error());
  return m;
}

}  // namespace

void check_attachments(const std::vector<IntakeDocument>& files, const std::string& field,
                       core::Error& invalid) {
  if (files.size() > kMaxAttachments) {
    invalid.and_field(field, fmt::format("at most {} attachments", kMaxAttachments));
  }
  for (const auto& f : files) {
    auto type = core::media_type_of(f.content);
    if (f.content.empty() || f.content.size() > kMaxAttachmentFileBytes) {
      invalid.and_field(field, "each attachment must have 1 byte to 10 MB");
      return;
    }
    if (type != "application/pdf" && type != "image/png" && type != "image/jpeg") {
      invalid.and_field(field, "each attachment must be a PDF, PNG or JPEG");
      return;
    }
    if (f.filename.empty() || f.filename.size() > kMaxFilename ||
        !core::is_single_line(f.filename) || !core::valid_utf8(f.filename)) {
      invalid.and_field(
          field,
          fmt::format("each file name must be one line of at most {} characters", kMaxFilename));
      return;
    }
  }
}

core::Status scan_attachments(core::VirusScanner* scanner, const std::vector<IntakeDocument>& files,
                              const std::string& field) {
  for (const auto& f : files) {
    if (!scanner) return fail(Error::unavailable("no virus scanner is configured"));
    auto scanned = scanner->scan(f.content);
    if (!scanned) return fail(scanned.error());
    if (scanned->infected) return fail(Error::invalid(field, "an attachment contains malware"));
  }
  return {};
}

std::vector<MessageFile> insert_attachments(core::db::Connection& tx, const AttachmentKind& kind,
                                            const std::string& owner_id,
                                            const std::vector<IntakeDocument>& files,
                                            const std::vector<std::string>& blobs) {
  std::vector<MessageFile> out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    auto type = core::media_type_of(f.content);
    MessageFile file{.position = static_cast<int>(i),
                     .filename = stored_filename(core::clean_filename(f.filename, type), i),
                     .media_type = type,
                     .size = static_cast<std::int64_t>(f.content.size())};
    tx.execute(fmt::format("INSERT INTO {} ({}, position, filename, media_type, size, sha256, "
                           "blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           kind.files, kind.owner_column),
               owner_id, file.position, file.filename, file.media_type, file.size,
               core::crypto::sha256_hex(f.content), blobs[i]);
    out.push_back(std::move(file));
  }
  return out;
}

core::Result<Message> Casework::send_message(const Staffer& who, std::string_view id,
                                             const MessageInput& input) {
  auto& d = *impl_;
  if (auto invalid = check(input, true); !invalid.fields.empty()) return fail(std::move(invalid));
  // the clerk's files go to citizens: scanned as theirs are, before anything is written
  if (auto scanned = scan_attachments(d.options.scanner, input.files, "message_files"); !scanned) {
    return fail(scanned.error());
  }
  return store_message(
      d, input, kToApplicant, Impl::actor(who), who.name,
      [&](core::db::Connection& tx) -> core::Result<Case> {
        auto k = d.visible(tx, who, id, true);
        if (k && by_post(*k)) {
          return fail(Error::conflict("the applicant applied on paper and is written to by post"));
        }
        return k;
      },
      [&](core::db::Connection& tx, const Case& k, const Message& m) {
        d.jobs.publish(tx, kCaseMessage,
                       json_object({{"applicationId", k.application_id}, {"message", m.id}}));
      });
}

core::Result<std::vector<Message>> Casework::messages(const Staffer& who, std::string_view id) {
  auto& d = *impl_;
  auto c = d.db.acquire();
  auto k = d.visible(*c, who, id, false);
  if (!k) return fail(k.error());
  return load_messages(*c, k->id);
}

core::Result<MessageFile> Casework::Impl::read_attachment(const Staffer& who,
                                                          std::string_view case_id,
                                                          const AttachmentKind& kind,
                                                          std::string_view owner, int position,
                                                          std::ostream& out) {
  core::Result<Case> k = fail(Error::not_found("no such case"));
  std::optional<core::db::Row> r;
  {
    auto c = db.acquire();
    k = visible(*c, who, case_id, false);
    if (!k) return fail(k.error());
    r = c->query_one(fmt::format("SELECT f.filename, f.media_type, f.size, f.blob_id FROM {0} f "
                                 "JOIN {1} o ON o.id = f.{2} WHERE o.case_id = ? AND f.{2} = ? "
                                 "AND f.position = ?",
                                 kind.files, kind.owners, kind.owner_column),
                     k->id, std::string(owner), position);
  }
  if (!r) return fail(Error::not_found("no such attachment"));
  read(who, *k, fmt::format("{}:{}:{}", kind.read_as, owner, position));
  if (auto done = cases.read_blob(r->text(3), out); !done) return fail(done.error());
  return MessageFile{.position = position,
                     .filename = r->text(0),
                     .media_type = r->text(1),
                     .size = r->integer(2)};
}

core::Result<MessageFile> Casework::read_message_file(const Staffer& who, std::string_view id,
                                                      std::string_view message_id, int position,
                                                      std::ostream& out) {
  return impl_->read_attachment(who, id, kMessageFiles, message_id, position, out);
}

std::vector<Message> Casework::applicant_messages(std::string_view application_id) {
  auto& d = *impl_;
  auto c = d.db.acquire();
  auto r =
      c->query_one("SELECT id FROM cases WHERE application_id = ?", std::string(application_id));
  if (!r) return {};
  return load_messages(*c, r->text(0));
}

core::Result<Message> Casework::applicant_message(std::string_view application_id,
                                                  const MessageInput& input,
                                                  std::string_view actor) {
  auto& d = *impl_;
  MessageInput in = input;
  in.required_level = "low";  // for the clerks, who read everything of their Vorgang
  if (auto invalid = check(in, false); !invalid.fields.empty()) return fail(std::move(invalid));
  return store_message(
      d, in, kFromApplicant, std::string(actor), "",
      [&](core::db::Connection& tx) -> core::Result<Case> {
        auto row = tx.query_one(
            fmt::format("SELECT id FROM cases WHERE application_id = ?{}", tx.for_update()),
            std::string(application_id));
        if (!row) return fail(Error::not_found("no such case"));
        auto k = d.load(tx, row->text(0), true);
        if (!k) return fail(Error::not_found("no such case"));
        return *k;
      },
      [&](core::db::Connection& tx, const Case& k, const Message& m) {
        d.tell_workers(tx, k, "message", m.id);
      });
}

core::Result<MessageFile> Casework::read_applicant_file(std::string_view application_id,
                                                        std::string_view message_id, int position,
                                                        std::ostream& out, std::string_view actor) {
  auto& d = *impl_;
  auto r = d.db.query_one(
      "SELECT f.filename, f.media_type, f.size, f.blob_id, c.id FROM case_message_files f JOIN "
      "case_messages m ON m.id = f.message_id JOIN cases c ON c.id = m.case_id WHERE "
      "c.application_id = ? AND f.message_id = ? AND f.position = ?",
      std::string(application_id), std::string(message_id), position);
  if (!r) return fail(Error::not_found("no such attachment"));
  d.db.acquire()->execute("INSERT INTO case_reads (case_id, at, actor, what) VALUES (?, ?, ?, ?)",
                          r->text(4), core::to_millis(d.clock.now()),
                          fmt::format("{} (applicant)", actor),
                          fmt::format("message:{}:{}", message_id, position));
  if (auto read = d.cases.read_blob(r->text(3), out); !read) return fail(read.error());
  return MessageFile{.position = position,
                     .filename = r->text(0),
                     .media_type = r->text(1),
                     .size = r->integer(2)};
}

}  // namespace mvsp::cases
