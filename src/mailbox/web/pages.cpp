// The citizen's mailbox. A person sees the mailbox of their account, or of the
// organisation they act for; a message that needs a higher trust level than the session
// has is shown only after the step-up, and opening it is the retrieval (Abruf).
#include <fmt/format.h>

#include <mvsp/core/clock.hpp>
#include <mvsp/identity/acting.hpp>
#include <mvsp/identity/step_up.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/mailbox/pages.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>

namespace mvsp::mailbox {
namespace {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  Mailbox& mailbox;
  identity::Organisations& organisations;
  identity::Accounts& accounts;
  PageOptions options;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("mailbox.{}", key));
  }
};

// Whose mailbox this session looks at: the organisation it acts for (while the person is
// still a member: checked on every request), else the account.
// Whose mailbox the request sees: the organisation the person acts for (named), or the
// person's own; nobody when not signed in.
struct Owner {
  std::string id;
  std::string organisation;  // empty for the person's own
};

Owner mailbox_owner(const Ctx& c, Request& req) {
  if (!req.session || req.session->account_id.empty()) return {};
  if (auto org = identity::acting_for(c.organisations, *req.session)) return {org->id, org->name};
  return {req.session->account_id, {}};
}

std::string size_text(std::int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} Byte", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{} KB", (bytes + 1023) / 1024);
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

View summary_view(const Ctx& c, const Request& req, const Message& m) {
  View v;
  v.set("href", "/postfach/" + m.id);
  v.set("subject", m.subject);
  v.set("sender", m.sender);
  v.set("provided", core::format_berlin(m.provided_at));
  v.set("unread", !m.retrieved_at.has_value());
  v.set("kind", c.t(req, m.notice ? "kind.notice" : "kind.message"));
  if (m.required_level > identity::TrustLevel::low) {
    v.set("level",
          c.pages.catalog().text(req.locale, fmt::format("identity.levels.{}",
                                                         identity::level_name(m.required_level))));
  }
  return v;
}

Response inbox(const Ctx& c, Request& req) {
  auto [owner, organisation] = mailbox_owner(c, req);
  if (owner.empty()) return to_login(req);
  View model;
  model.set("title", c.t(req, "inbox.title"));
  model.set_list("messages", {});
  int unread = 0;
  auto messages = c.mailbox.inbox(owner);
  for (const auto& m : messages) {
    if (!m.retrieved_at) ++unread;
    model.add("messages", summary_view(c, req, m));
  }
  model.set("has_messages", !messages.empty());
  model.set("count", fmt::format(fmt::runtime(c.t(req, "inbox.count")), messages.size(), unread));
  if (!organisation.empty()) model.set("organisation", organisation);
  return c.pages.render(req, "mailbox/inbox", std::move(model));
}

// Opening a message (page or download) is the retrieval, at the session's level.
core::Result<Message> open_message(const Ctx& c, const Request& req, const std::string& owner) {
  auto level =
      identity::session_level(*req.session, c.options.clock->now(), c.options.step_up_lifetime);
  return c.mailbox.retrieve(owner, req.param("id"), level);
}

Response message(const Ctx& c, Request& req) {
  auto owner = mailbox_owner(c, req).id;
  if (owner.empty()) return to_login(req);
  auto opened = open_message(c, req, owner);
  if (!opened && opened.error().code == core::ErrorCode::not_found) {
    return c.pages.error(req, opened.error());
  }
  if (!opened) {
    // Below the message's level: say why, and offer the way up.
    auto m = c.mailbox.find(owner, req.param("id"));
    if (!m) return c.pages.error(req, m.error());
    View model;
    model.set("title", c.t(req, "step_up.title"));
    model.set("sender", m->sender);
    model.set("provided", core::format_berlin(m->provided_at));
    auto level_text = c.pages.catalog().text(
        req.locale, fmt::format("identity.levels.{}", identity::level_name(m->required_level)));
    model.set("explanation",
              fmt::format(fmt::runtime(c.t(req, "step_up.explanation")), level_text));
    auto where = identity::step_up_location(c.accounts, *req.session, m->required_level,
                                            c.options.has_upstream, req.path);
    if (where) {
      model.set("step_up_href", *where);
      model.set("step_up_label", c.t(req, m->required_level > identity::TrustLevel::substantial
                                              ? "step_up.eid"
                                              : "step_up.second_factor"));
    } else {
      model.set("unreachable", c.t(req, "step_up.unreachable"));
    }
    return c.pages.render(req, "mailbox/step_up", std::move(model), 403);
  }
  const auto& m = *opened;
  View model;
  model.set("title", m.subject);
  model.set("subject", m.subject);
  auto fact = [&](const char* key, std::string value) {
    View v;
    v.set("label", c.t(req, fmt::format("message.{}", key)));
    v.set("value", std::move(value));
    model.add("facts", std::move(v));
  };
  fact("kind", c.t(req, m.notice ? "kind.notice" : "kind.message"));
  fact("sender", m.sender);
  if (!m.reference.empty()) fact("reference", m.reference);
  fact("provided", core::format_berlin(m.provided_at));
  if (m.retrieved_at) fact("retrieved", core::format_berlin(*m.retrieved_at));
  if (!m.deemed_announced_on.empty()) {
    model.set("deemed", fmt::format(fmt::runtime(c.t(req, "message.deemed")),
                                    core::format_day_de(m.deemed_announced_on)));
  }
  model.set("body", m.body);
  model.set_list("attachments", {});
  model.set("has_attachments", !m.attachments.empty());
  for (const auto& a : m.attachments) {
    View v;
    v.set("href", fmt::format("/postfach/{}/anhang/{}", m.id, a.position));
    v.set("filename", a.filename);
    v.set("size", size_text(a.size));
    model.add("attachments", std::move(v));
  }
  return c.pages.render(req, "mailbox/message", std::move(model));
}

Response attachment(const Ctx& c, Request& req) {
  auto owner = mailbox_owner(c, req).id;
  if (owner.empty()) return to_login(req);
  // Downloading opens the message too: the same level rule, the same retrieval record.
  auto m = open_message(c, req, owner);
  if (!m) {
    return m.error().code == core::ErrorCode::not_found
               ? c.pages.error(req, m.error())
               : Response::redirect("/postfach/" + web::url_encode(req.param("id")));
  }
  int position = -1;
  try {
    position = std::stoi(req.param("n"));
  } catch (const std::exception&) {
    return c.pages.error(req, core::Error::not_found("no such attachment"));
  }
  const AttachmentInfo* info = nullptr;
  for (const auto& a : m->attachments) {
    if (a.position == position) info = &a;
  }
  if (!info) return c.pages.error(req, core::Error::not_found("no such attachment"));
  Response res;
  res.set_header("Content-Type", info->media_type);
  res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}\"", info->filename));
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Length", std::to_string(info->size));
  auto* mailbox = &c.mailbox;
  auto id = m->id;
  // The head (with the stored length) is sent before the document is read. A document that
  // fails to read (a chunk that does not authenticate) ends the connection short of that
  // length, so the browser shows a broken download instead of a complete, wrong one.
  res.stream = [mailbox, owner, id, position](std::ostream& out) {
    if (auto read = mailbox->read_attachment(owner, id, position, out); !read) {
      throw core::Failure(fmt::format("attachment {} of message {}: {} ({})", position, id,
                                      read.error().message, read.error().detail));
    }
  };
  return res;
}

}  // namespace

void register_pages(web::Router& router, const web::Pages& pages, Mailbox& mailbox,
                    identity::Organisations& organisations, identity::Accounts& accounts,
                    PageOptions options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, mailbox, organisations, accounts, options});
  router.get("/postfach", [c](Request& req) { return inbox(*c, req); });
  router.get("/postfach/{id}", [c](Request& req) { return message(*c, req); });
  router.get("/postfach/{id}/anhang/{n}", [c](Request& req) { return attachment(*c, req); });
}

}  // namespace mvsp::mailbox
