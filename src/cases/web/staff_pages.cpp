// The clerk's pages of the case management: the inbox of the Vorgänge the signed-in person
// may see (their groups', or all of the authority for its lead and administration), one
// Vorgang with everything about it and the forms of the next steps, the decision notice,
// and the audit trail for the administration. A Vorgang the person may not see does not
// exist for them; every read is recorded by Casework.
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>
#include <optional>
#include <sstream>

#include "routes.hpp"
#include "staff.hpp"

namespace mvsp::cases {
namespace {

using namespace staff;

std::string payment_text(const Ctx& c, const Request& req, const Case& k) {
  if (k.payment_status.empty()) return c.t(req, "payment.none");
  return c.named(req, "payment", k.payment_status);
}

std::string day_de(const std::string& iso) {
  return iso.empty() ? std::string() : core::format_day_de(iso);
}

Response inbox(const Ctx& c, Request& req) {
  auto who = staffer(c, req);
  if (auto r = refuse(c, req, who)) return *r;
  InboxQuery q;
  q.text = req.query_param("q").value_or("");
  q.state = req.query_param("status").value_or("");
  q.authority_id = req.query_param("behoerde").value_or("");
  q.assignee = req.query_param("bearbeitung").value_or("");
  q.deadline = req.query_param("frist").value_or("");
  q.sort = req.query_param("sortierung").value_or("received");
  q.after = req.query_param("nach").value_or("");
  View model;
  model.set("title", c.t(req, "arrivals.title"));
  model.set("forwarded", req.query_param("abgegeben").has_value());
  model.set("q", q.text);
  auto ids = tenants_of(*who);
  std::map<std::string, std::string> names;
  model.set_list("authorities", {});
  for (const auto& [id, name] : c.options.authorities_of(ids)) {
    names[id] = name;
    View v;
    v.set("id", id);
    v.set("name", name);
    v.set("selected", id == q.authority_id);
    model.add("authorities", std::move(v));
  }
  auto options = [&](const char* list, const std::vector<std::string>& values,
                     const std::string& chosen, const char* texts) {
    model.set_list(list, {});
    for (const auto& value : values) {
      View v;
      v.set("value", value);
      v.set("label", c.t(req, fmt::format("{}.{}", texts, value.empty() ? "any" : value)));
      v.set("selected", value == chosen);
      model.add(list, std::move(v));
    }
  };
  options("states",
          {"", "all", "received", "formal_check", "documents_requested", "material_check",
           "decided", "announced", "filed", "closed", "withdrawn", "ended"},
          q.state, "filter_state");
  options("assignees", {"", "me", "none"}, q.assignee, "filter_assignee");
  options("deadlines", {"", "soon", "passed"}, q.deadline, "filter_deadline");
  options("sorts", {"received", "deadline"}, q.sort, "sort");
  model.set_list("cases", {});
  auto page = c.work.inbox(*who, q);
  int status = 200;
  if (!page) {
    add_errors(c, req, model, page.error());
    status = page.error().code == core::ErrorCode::invalid_input ? 422 : 403;
  } else {
    for (const auto& row : page->rows) {
      const auto& k = row.c;
      View v;
      v.set("id", k.id);
      v.set("reference", k.reference);
      v.set("aktenzeichen", k.aktenzeichen);
      v.set("service", k.title);
      v.set("authority", names.contains(k.authority_id) ? names[k.authority_id] : k.authority_id);
      v.set("applicant", k.applicant.name);
      v.set("received", core::format_berlin(k.received_at));
      v.set("state", c.named(req, "state", k.state));
      v.set("assignee", k.assignee_name);
      v.set("deadline", day_de(k.deadline_on));
      v.set("soon", row.deadline_soon);
      v.set("passed", row.deadline_passed);
      v.set("payment", payment_text(c, req, k));
      model.add("cases", std::move(v));
    }
    model.set("has_cases", !page->rows.empty());
    if (!page->next.empty()) {
      std::string query;
      auto add = [&](const char* name, const std::string& value) {
        if (value.empty()) return;
        query += fmt::format("{}{}={}", query.empty() ? "?" : "&", name, web::url_encode(value));
      };
      add("q", q.text);
      add("status", q.state);
      add("behoerde", q.authority_id);
      add("bearbeitung", q.assignee);
      add("frist", q.deadline);
      add("sortierung", q.sort);
      add("nach", page->next);
      model.set("next", "/verwaltung/vorgaenge" + query);
    }
  }
  model.set("searched", !q.text.empty() || !q.state.empty() || !q.authority_id.empty() ||
                            !q.assignee.empty() || !q.deadline.empty());
  auto res = c.pages.render(req, "cases/staff_arrivals", std::move(model));
  res.status = status;
  return res;
}

// What a timeline entry says beyond its kind: who, and the facts it carries, in the
// person's words ("Frau Beispiel · bis 12.01.2027 · Meldebescheinigung").
std::string timeline_detail(const Ctx& c, const Request& req, const TimelineEntry& e) {
  std::vector<std::string> parts;
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(e.detail).extract<Poco::JSON::Object::Ptr>();
    auto get = [&](const char* key) { return o->optValue<std::string>(key, ""); };
    auto by = get("by");
    if (!by.empty()) {
      parts.push_back(by == "applicant" ? c.t(req, "timeline_by.applicant") : by);
    } else if (e.actor.starts_with("system")) {
      parts.push_back(c.t(req, "timeline_by.system"));
    }
    if (auto to = get("to"); !to.empty()) parts.push_back(c.named(req, "state", to));
    for (const char* key : {"assigneeName", "aktenzeichen", "formerAktenzeichen", "party", "items",
                            "documents", "title", "extension", "reason", "note", "receipt"}) {
      if (o->has(key) && o->get(key).isInteger()) {
        // a count (the documents that came with the application), said only when there are some
        if (auto n = o->getValue<int>(key); n > 0) {
          parts.push_back(
              fmt::format("{}: {}", c.t(req, fmt::format("timeline_count.{}", key)), n));
        }
      } else if (auto v = get(key); !v.empty() && !(std::string_view(key) == "party" &&
                                                    (by == v || by.ends_with(", " + v)))) {
        // (the party, unless it answered itself and is named already)
        parts.push_back(v);
      }
    }
    for (const char* key : {"deadline", "deemedAnnouncedOn", "postedOn"}) {
      if (auto v = get(key); !v.empty()) {
        parts.push_back(
            fmt::format("{} {}", c.t(req, fmt::format("timeline_day.{}", key)), day_de(v)));
      }
    }
  } catch (const std::exception&) {
    // an entry of an older shape: its kind says enough
  }
  return fmt::format("{}", fmt::join(parts, " · "));
}

// The attachments of a message or a statement, each at "<base>/<position>".
void add_files(const Ctx& c, const Request& req, View& v, const std::vector<MessageFile>& files,
               const std::string& base) {
  v.set_list("files", {});
  for (const auto& f : files) {
    View file;
    file.set("href", fmt::format("{}/{}", base, f.position));
    file.set("filename", f.filename);
    file.set("size", fmt::format(fmt::runtime(c.t(req, "case.kilobytes")), (f.size + 1023) / 1024));
    v.add("files", std::move(file));
  }
  v.set("has_files", !files.empty());
}

// One message as the Vorgang page shows it: who wrote when, the text in paragraphs, the
// attachments.
View message_view(const Ctx& c, const Request& req, const Case& k, const Message& m) {
  View v;
  bool to_applicant = m.direction == "to_applicant";
  v.set("subject", m.subject.empty() ? c.t(req, "messages.from_applicant_subject") : m.subject);
  v.set("from", to_applicant ? m.author : c.t(req, "messages.from_applicant"));
  v.set("at", core::format_berlin(m.created_at));
  if (to_applicant) {
    v.set("level", fmt::format(fmt::runtime(c.t(req, "messages.needs_level")),
                               c.pages.catalog().text(req.locale, fmt::format("identity.levels.{}",
                                                                              m.required_level))));
  }
  v.set_list("paragraphs", {});
  for (const auto& p : lines(m.body)) v.add("paragraphs", View::of(p));
  add_files(c, req, v, m.files, fmt::format("/verwaltung/vorgaenge/{}/nachrichten/{}", k.id, m.id));
  return v;
}

// One request for a statement as the Vorgang page shows it: whom, by when, the answer.
View statement_view(const Ctx& c, const Request& req, const Case& k, const Statement& st) {
  View v;
  v.set("id", st.id);
  v.set("case_id", k.id);
  v.set("party", st.party_kind == "outside" ? fmt::format("{} ({})", st.party_name, st.party_email)
                                            : st.party_name);
  v.set("asked", fmt::format(fmt::runtime(c.t(req, "participation.asked_by")),
                             core::format_berlin(st.created_at), st.created_by_name));
  v.set("deadline", day_de(st.deadline_on));
  v.set("status", c.named(req, "statement_status", st.status));
  v.set("overdue", st.overdue);
  v.set("open", st.status == "open");
  v.set_list("question", {});
  for (const auto& p : lines(st.question)) v.add("question", View::of(p));
  v.set("answered", st.status == "answered");
  if (st.answered_at) {
    v.set("answer_heading", fmt::format(fmt::runtime(c.t(req, "participation.answer_by")),
                                        st.answered_by, core::format_berlin(*st.answered_at)));
  }
  v.set_list("answer", {});
  for (const auto& p : lines(st.answer)) v.add("answer", View::of(p));
  add_files(c, req, v, st.files,
            fmt::format("/verwaltung/vorgaenge/{}/stellungnahmen/{}", k.id, st.id));
  return v;
}

// The Vorgang page, with the forms of the next steps; `error` and `form` name a form
// that was sent and refused (its values in `sent`).
Response case_page(const Ctx& c, Request& req, const Staffer& who, const Case& k,
                   const core::Error* error = nullptr, std::string_view form = {},
                   const std::map<std::string, std::string>& sent = {}) {
  std::string authority = k.authority_id;
  for (const auto& [id, name] : c.options.authorities_of(tenants_of(who))) {
    if (id == k.authority_id) authority = name;
  }
  View model;
  model.set("id", k.id);
  model.set("title", fmt::format("{} {}", c.t(req, "case.title"), k.reference));
  model.set("reference", k.reference);
  if (error) add_errors(c, req, model, *error);
  model.set("entered", !error && req.query_param("erfasst").has_value());
  model.set_list("facts", {});
  auto fact = [&](const char* key, std::string value) {
    if (value.empty()) return;
    View v;
    v.set("label", c.t(req, fmt::format("facts.{}", key)));
    v.set("value", std::move(value));
    model.add("facts", std::move(v));
  };
  fact("reference", k.reference);
  fact("aktenzeichen", k.aktenzeichen);
  fact("state", c.named(req, "state", k.state));
  fact("service", fmt::format(fmt::runtime(c.t(req, "facts.service_version")), k.title,
                              k.online_service_version));
  fact("authority", authority);
  fact("assignee", k.assignee_name.empty() ? c.t(req, "case.nobody") : k.assignee_name);
  fact("applicant", k.applicant.name);
  fact("applicant_kind", c.named(req, "applicant_kind", k.applicant.kind));
  fact("email", k.applicant.email);
  fact("address", fmt::format("{}", fmt::join(lines(k.applicant.address), ", ")));
  bool by_post = k.applicant.kind == "paper";
  fact("reach", c.t(req, by_post                       ? "case.reach_post"
                         : k.applicant.kind == "guest" ? "case.reach_guest"
                                                       : "case.reach_mailbox"));
  fact("source", c.named(req, "source", k.source));
  fact("submitted", core::format_berlin(k.submitted_at));
  fact("received", core::format_berlin(k.received_at));
  fact("payment", payment_text(c, req, k));
  if (!k.payment_status.empty()) {
    fact("amount", payments::format_euro(k.payment_amount_cents));
    fact("method", c.named(req, "payment_method", k.payment_method));
    fact("kassenzeichen", k.kassenzeichen);
  }
  // the deadline
  if (auto d = c.work.deadline(k.id); d && !d->rule.empty()) {
    model.set("has_deadline", true);
    model.set("deadline_on", d->suspended ? c.t(req, "deadline.suspended") : day_de(d->on));
    model.set("deadline_rule", d->rule);
    model.set("deadline_from", day_de(d->from));
    model.set("deadline_soon", d->soon);
    model.set("deadline_passed", d->passed);
    model.set("deadline_extensions", fmt::format("{}", fmt::join(d->extensions, ", ")));
  }
  auto state = parse_state(k.state).value_or(State::received);
  bool open = state == State::received || state == State::formal_check ||
              state == State::material_check || state == State::documents_requested;
  // moves
  model.set_list("moves", {});
  for (auto to : next_states(state)) {
    View v;
    v.set("to", std::string(state_name(to)));
    v.set("label", c.t(req, fmt::format("move.{}", state_name(to))));
    model.add("moves", std::move(v));
  }
  model.set("can_move", !next_states(state).empty());
  model.set("by_post", by_post);
  model.set("can_request", !by_post && (state == State::received || state == State::formal_check ||
                                        state == State::material_check));
  model.set("can_decide", state == State::formal_check || state == State::material_check);
  model.set("can_file",
            c.work.files_to_efile() &&
                (state == State::announced || state == State::withdrawn || state == State::ended));
  model.set("can_extend", open && c.work.deadline(k.id) && !c.work.deadline(k.id)->rule.empty());
  model.set("akz_value", sent.contains("aktenzeichen") ? sent.at("aktenzeichen") : k.aktenzeichen);
  auto value = [&](const char* name) {
    return sent.contains(name) ? sent.at(name) : std::string();
  };
  model.set("items_value", value("items"));
  model.set("request_deadline_value", value("deadline"));
  model.set("request_note_value", value("note"));
  model.set("duration_value", value("duration"));
  model.set("reason_value", value("reason"));
  model.set("form_" + std::string(form), true);
  // assignment
  model.set_list("colleagues", {});
  for (const auto& colleague : c.options.colleagues(k.tenant_id)) {
    if (!works_vorgaenge(colleague)) continue;
    View v;
    v.set("id", colleague.account_id);
    v.set("name", colleague.name);
    v.set("selected", colleague.account_id == k.assignee_id);
    model.add("colleagues", std::move(v));
  }
  model.set("assigned_to_me", k.assignee_id == who.account_id);
  // requests
  model.set_list("requests", {});
  for (const auto& r : c.work.requests(k.id)) {
    View v;
    v.set("items", fmt::format("{}", fmt::join(r.items, "; ")));
    v.set("deadline", day_de(r.deadline_on));
    v.set("status", c.named(req, "request_status", r.status));
    v.set("note", r.note);
    model.add("requests", std::move(v));
  }
  // notices
  model.set_list("notices", {});
  for (const auto& n : c.work.notices(k.id)) {
    View v;
    v.set("href", fmt::format("/verwaltung/vorgaenge/{}/bescheide/{}", k.id, n.id));
    v.set("title", n.title);
    v.set("status", c.named(req, "notice_status", n.status));
    v.set("created", core::format_berlin(n.created_at));
    v.set("stored", n.stored_at ? core::format_berlin(*n.stored_at) : std::string());
    v.set("deemed", day_de(n.deemed_announced_on));
    v.set("receipt", n.receipt_message_id);
    v.set("postal", n.status == "postal");
    v.set("sha256", n.sha256);
    model.add("notices", std::move(v));
    if (n.status == "postal" && state == State::decided) model.set("needs_post", true);
  }
  model.set("posted_value", value("posted_on"));
  // messages
  model.set_list("messages", {});
  if (auto list = c.work.messages(who, k.id)) {
    for (const auto& m : *list) model.add("messages", message_view(c, req, k, m));
  }
  model.set("can_message", !by_post && takes_messages(k.state));
  model.set("message_subject_value", value("betreff"));
  model.set("message_body_value", value("text"));
  model.set_list("levels", {});
  auto level = sent.contains("vertrauensniveau") ? sent.at("vertrauensniveau") : "low";
  for (const char* l : {"low", "substantial", "high"}) {
    View v;
    v.set("value", l);
    v.set("label", c.pages.catalog().text(req.locale, fmt::format("identity.levels.{}", l)));
    v.set("selected", level == l);
    model.add("levels", std::move(v));
  }
  // participation
  model.set_list("statements", {});
  if (auto list = c.work.statements(who, k.id)) {
    for (const auto& st : *list) model.add("statements", statement_view(c, req, k, st));
  }
  model.set("can_participate", open);
  for (const char* list : {"statement_authorities", "forward_authorities"}) {
    model.set_list(list, {});
    for (const auto& a : c.work.authorities()) {
      if (a.id == k.authority_id) continue;
      View v;
      v.set("id", a.id);
      v.set("name", a.tenant_name.empty() || a.tenant_name == a.name
                        ? a.name
                        : fmt::format("{} ({})", a.name, a.tenant_name));
      v.set("selected",
            form == (std::string_view(list).starts_with("statement") ? "statement" : "forward") &&
                value("behoerde") == a.id);
      model.add(list, std::move(v));
    }
  }
  model.set("party_authority", form != "statement" || value("beteiligt") != "outside");
  model.set("party_outside", form == "statement" && value("beteiligt") == "outside");
  model.set("statement_name_value", value("name"));
  model.set("statement_email_value", value("email"));
  model.set("statement_question_value", value("frage"));
  model.set("statement_deadline_value", value("frist"));
  // unticked until the clerk chooses to share (an outside body needs the least)
  model.set("share_checked", form == "statement" && value("unterlagen") == "ja");
  model.set("forward_reason_value", value("grund"));
  // documents
  model.set_list("documents", {});
  for (const auto& d : k.documents) {
    View v;
    v.set("href", fmt::format("/verwaltung/vorgaenge/{}/dokumente/{}", k.id, d.position));
    v.set("filename", d.filename);
    v.set("requirement", d.requirement);
    v.set("size", fmt::format(fmt::runtime(c.t(req, "case.kilobytes")), (d.size + 1023) / 1024));
    model.add("documents", std::move(v));
  }
  model.set("has_documents", !k.documents.empty());
  // timeline
  model.set_list("timeline", {});
  for (const auto& e : c.work.timeline(k.id, 100)) {
    View v;
    v.set("at", core::format_berlin(e.at));
    v.set("what", c.named(req, "timeline", e.action));
    v.set("detail", timeline_detail(c, req, e));
    model.add("timeline", std::move(v));
  }
  model.set("is_admin", std::ranges::any_of(who.roles, [&](const auto& r) {
              return r.first == k.tenant_id && r.second == "authority_admin";
            }));
  auto res = c.pages.render(req, "cases/staff_case", std::move(model));
  if (error) res.status = error->code == core::ErrorCode::invalid_input ? 422 : 409;
  return res;
}

// The Vorgang of the path for the person, read as `what`; the response when there is none.
struct Found {
  std::optional<Staffer> who;
  std::optional<Case> k;
  std::optional<Response> refused;
};

Found find(const Ctx& c, Request& req, std::string_view what) {
  Found f;
  f.who = staffer(c, req);
  if (auto r = refuse(c, req, f.who)) {
    f.refused = std::move(*r);
    return f;
  }
  auto k = c.work.open_case(*f.who, req.param("id"), what);
  if (!k) {
    f.refused = c.pages.error(req, core::Error::not_found("no such case"));
    return f;
  }
  f.k = std::move(*k);
  return f;
}

Response show(const Ctx& c, Request& req) {
  auto f = find(c, req, "view");
  if (f.refused) return std::move(*f.refused);
  return case_page(c, req, *f.who, *f.k);
}

Response back_to(const Case& k, std::string_view anchor = {}) {
  return Response::redirect(fmt::format("/verwaltung/vorgaenge/{}{}", k.id, anchor));
}

// A step sent from the Vorgang page: done, back to the page; refused, the page with the
// error at the form that was sent.
template <typename Step>
Response step(const Ctx& c, Request& req, std::string_view form,
              std::initializer_list<const char*> fields, Step&& run) {
  auto f = find(c, req, "view");
  if (f.refused) return std::move(*f.refused);
  std::map<std::string, std::string> sent;
  for (const char* name : fields) sent[name] = req.form(name).value_or("");
  auto done = run(*f.who, *f.k, sent);
  if (done) return back_to(*f.k);
  auto fresh = c.work.open_case(*f.who, f.k->id, "view");
  return case_page(c, req, *f.who, fresh ? *fresh : *f.k, &done.error(), form, sent);
}

Response assign(const Ctx& c, Request& req) {
  return step(c, req, "assign", {"bearbeitung"},
              [&](const Staffer& who, const Case& k, auto& sent) {
                auto to = sent["bearbeitung"] == "ich" ? who.account_id : sent["bearbeitung"];
                auto r = c.work.assign(who, k.id, to);
                return r ? core::Status{} : core::Status{core::fail(r.error())};
              });
}

Response aktenzeichen(const Ctx& c, Request& req) {
  return step(c, req, "aktenzeichen", {"aktenzeichen"},
              [&](const Staffer& who, const Case& k, auto& sent) {
                auto r = c.work.set_aktenzeichen(who, k.id, sent["aktenzeichen"]);
                return r ? core::Status{} : core::Status{core::fail(r.error())};
              });
}

Response move(const Ctx& c, Request& req) {
  return step(c, req, "move", {"nach", "vermerk"},
              [&](const Staffer& who, const Case& k, auto& sent) {
                auto to = parse_state(sent["nach"]);
                if (!to)
                  return core::Status{core::fail(core::Error::invalid("state", "unknown state"))};
                auto r = c.work.move(who, k.id, *to, sent["vermerk"]);
                return r ? core::Status{} : core::Status{core::fail(r.error())};
              });
}

Response request_documents(const Ctx& c, Request& req) {
  return step(c, req, "request", {"items", "deadline", "note"},
              [&](const Staffer& who, const Case& k, auto& sent) {
                auto r = c.work.request_documents(who, k.id, lines(sent["items"]), sent["deadline"],
                                                  sent["note"]);
                return r ? core::Status{} : core::Status{core::fail(r.error())};
              });
}

Response extend(const Ctx& c, Request& req) {
  return step(c, req, "extend", {"duration", "reason"},
              [&](const Staffer& who, const Case& k, auto& sent) {
                auto r = c.work.extend_deadline(who, k.id, sent["duration"], sent["reason"]);
                return r ? core::Status{} : core::Status{core::fail(r.error())};
              });
}

Response posted(const Ctx& c, Request& req) {
  return step(c, req, "post", {"posted_on"}, [&](const Staffer& who, const Case& k, auto& sent) {
    auto r = c.work.confirm_postal(who, k.id, sent["posted_on"]);
    return r ? core::Status{} : core::Status{core::fail(r.error())};
  });
}

// The decision notice: a template's text to edit, or a finished PDF to upload.
Response notice_page(const Ctx& c, Request& req, const Staffer& who, const Case& k,
                     const core::Error* error = nullptr, const NoticeInput& sent = {}) {
  View model;
  model.set("id", k.id);
  model.set("title", fmt::format("{} {}", c.t(req, "notice.title"), k.reference));
  model.set("reference", k.reference);
  if (error) add_errors(c, req, model, *error);
  auto chosen =
      sent.template_id.empty() ? req.query_param("vorlage").value_or("") : sent.template_id;
  model.set_list("templates", {});
  std::string body = sent.body, title = sent.title;
  if (auto list = c.work.templates(who, k.tenant_id)) {
    if (chosen.empty() && !list->empty()) chosen = list->front().id;
    for (const auto& t : *list) {
      View v;
      v.set("id", t.id);
      v.set("name", t.name);
      v.set("selected", t.id == chosen);
      model.add("templates", std::move(v));
      if (t.id == chosen && body.empty()) body = t.body;
      if (t.id == chosen && title.empty()) title = t.title;
    }
    model.set("has_templates", !list->empty());
  }
  model.set("template_id", chosen);
  model.set("body", body);
  model.set("notice_title", title);
  auto res = c.pages.render(req, "cases/staff_notice", std::move(model));
  if (error) res.status = error->code == core::ErrorCode::invalid_input ? 422 : 409;
  return res;
}

Response notice_form(const Ctx& c, Request& req) {
  auto f = find(c, req, "view");
  if (f.refused) return std::move(*f.refused);
  return notice_page(c, req, *f.who, *f.k);
}

Response decide(const Ctx& c, Request& req) {
  auto f = find(c, req, "view");
  if (f.refused) return std::move(*f.refused);
  NoticeInput input;
  auto content_type = req.header("Content-Type").value_or("");
  if (content_type.starts_with("multipart/form-data")) {
    auto parts = web::parse_multipart(req, 8);
    if (!parts) return notice_page(c, req, *f.who, *f.k, &parts.error());
    for (const auto& p : *parts) {
      if (p.name == "datei") {
        input.uploaded_pdf = p.body;
        input.uploaded_filename = p.filename;
      } else if (p.name == "titel_upload") {
        input.title = p.body;
      }
    }
    if (input.uploaded_pdf.empty()) {
      auto error = core::Error::invalid("file", "choose a PDF");
      return notice_page(c, req, *f.who, *f.k, &error, input);
    }
  } else {
    input.template_id = req.form("vorlage").value_or("");
    input.title = req.form("titel").value_or("");
    input.body = req.form("text").value_or("");
    if (req.form("vorschau_vorlage")) {
      // without JavaScript: another template was chosen; show its text
      return notice_page(c, req, *f.who, *f.k, nullptr, {.template_id = input.template_id});
    }
  }
  auto made = c.work.decide(*f.who, f.k->id, input);
  if (!made) return notice_page(c, req, *f.who, *f.k, &made.error(), input);
  return back_to(*f.k, "#bescheide");
}

Response forward(const Ctx& c, Request& req) {
  auto f = find(c, req, "view");
  if (f.refused) return std::move(*f.refused);
  std::map<std::string, std::string> sent = {{"behoerde", req.form("behoerde").value_or("")},
                                             {"grund", req.form("grund").value_or("")}};
  auto done = c.work.forward(*f.who, f.k->id, sent["behoerde"], sent["grund"]);
  // the Vorgang is the other authority's now: back to the inbox, which says so
  if (done) return Response::redirect("/verwaltung/vorgaenge?abgegeben=1");
  auto fresh = c.work.open_case(*f.who, f.k->id, "view");
  return case_page(c, req, *f.who, fresh ? *fresh : *f.k, &done.error(), "forward", sent);
}

Response ask_statement(const Ctx& c, Request& req) {
  return step(c, req, "statement",
              {"beteiligt", "behoerde", "name", "email", "frage", "frist", "unterlagen"},
              [&](const Staffer& who, const Case& k, auto& sent) {
                auto r = c.work.ask_statement(who, k.id,
                                              {.party_kind = sent["beteiligt"],
                                               .authority_id = sent["behoerde"],
                                               .name = sent["name"],
                                               .email = sent["email"],
                                               .question = sent["frage"],
                                               .deadline_on = sent["frist"],
                                               .share_documents = sent["unterlagen"] == "ja"});
                return r ? core::Status{} : core::Status{core::fail(r.error())};
              });
}

Response cancel_statement(const Ctx& c, Request& req) {
  return step(c, req, "statement", {}, [&](const Staffer& who, const Case& k, auto&) {
    return c.work.cancel_statement(who, k.id, req.param("statement"));
  });
}

// A position in a path ("3"), or nothing for anything but digits.
std::optional<int> position_in(std::string_view n) {
  int position = -1;
  auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), position);
  if (ec != std::errc() || p != n.data() + n.size()) return std::nullopt;
  return position;
}

// A message to the applicant (multipart: betreff, text, vertrauensniveau, anlage repeated).
Response send_message(const Ctx& c, Request& req) {
  auto f = find(c, req, "view");
  if (f.refused) return std::move(*f.refused);
  std::map<std::string, std::string> sent;
  MessageInput input;
  auto parts = web::parse_multipart(req, 16);
  if (!parts) return case_page(c, req, *f.who, *f.k, &parts.error(), "message", sent);
  for (const auto& p : *parts) {
    if (p.name == "anlage") {
      // a file input left empty still sends a part without a name and content
      if (!p.filename.empty() || !p.body.empty()) {
        input.files.push_back(
            {.requirement = "", .filename = p.filename, .media_type = "", .content = p.body});
      }
    } else if (p.name == "betreff" || p.name == "text" || p.name == "vertrauensniveau") {
      sent[p.name] = p.body;
    }
  }
  input.subject = sent["betreff"];
  input.body = sent["text"];
  input.required_level = sent["vertrauensniveau"];
  auto done = c.work.send_message(*f.who, f.k->id, input);
  if (done) return back_to(*f.k, "#nachrichten");
  auto fresh = c.work.open_case(*f.who, f.k->id, "view");
  return case_page(c, req, *f.who, fresh ? *fresh : *f.k, &done.error(), "message", sent);
}

// An attachment of a message or a statement (`owner` names the path's parameter), read by
// `read` (Casework::read_message_file or read_statement_file).
template <typename Read>
Response attachment(const Ctx& c, Request& req, const char* owner, Read read) {
  auto who = staffer(c, req);
  if (auto r = refuse(c, req, who)) return *r;
  auto position = position_in(req.param("n"));
  if (!position) return c.pages.error(req, core::Error::not_found("no such attachment"));
  std::ostringstream out;
  auto file = (c.work.*read)(*who, req.param("id"), req.param(owner), *position, out);
  if (!file) return c.pages.error(req, file.error());
  Response res;
  res.body = out.str();
  return download_headers(std::move(res), file->media_type, file->filename);
}

Response answers(const Ctx& c, Request& req, const std::string& kind) {
  auto f = find(c, req, "answers." + kind);
  if (f.refused) return std::move(*f.refused);
  auto content = c.cases.answers(f.k->id, kind);
  if (!content) return c.pages.error(req, content.error());
  Response res;
  res.body = std::move(*content);
  static const std::map<std::string, std::string> kTypes = {
      {"pdf", "application/pdf"},
      {"json", "application/json"},
      {"xml", "application/xml; charset=utf-8"}};
  return download_headers(std::move(res), kTypes.at(kind),
                          fmt::format("antrag-{}.{}", f.k->reference, kind));
}

Response document(const Ctx& c, Request& req) {
  auto n = req.param("n");
  auto f = find(c, req, "document:" + n);
  if (f.refused) return std::move(*f.refused);
  const CaseDocument* doc = nullptr;
  if (auto position = position_in(n)) {
    for (const auto& d : f.k->documents) {
      if (d.position == *position) doc = &d;
    }
  }
  if (!doc) return c.pages.error(req, core::Error::not_found("no such document"));
  Response res;
  res.set_header("Content-Length", std::to_string(doc->size));
  auto* cases = &c.cases;
  // The head (with the stored length) goes out before the document is read: one that
  // fails to read ends the connection short of that length, a broken download rather than
  // a complete, wrong one.
  res.stream = [cases, id = f.k->id, position = doc->position](std::ostream& out) {
    if (auto read = cases->read_document(id, position, out); !read) {
      throw core::Failure(fmt::format("document {} of case {}: {} ({})", position, id,
                                      read.error().message, read.error().detail));
    }
  };
  return download_headers(std::move(res), doc->media_type, doc->filename);
}

Response notice_pdf(const Ctx& c, Request& req) {
  auto f = find(c, req, "notice:" + req.param("notice"));
  if (f.refused) return std::move(*f.refused);
  std::ostringstream pdf;
  if (auto read = c.work.read_notice(f.k->id, req.param("notice"), pdf); !read) {
    return c.pages.error(req, read.error());
  }
  Response res;
  res.body = pdf.str();
  return download_headers(std::move(res), "application/pdf",
                          fmt::format("bescheid-{}.pdf", f.k->reference));
}

Response documents_zip(const Ctx& c, Request& req) {
  auto who = staffer(c, req);
  if (auto r = refuse(c, req, who)) return *r;
  auto zip = c.work.documents_zip(*who, req.param("id"));
  if (!zip) return c.pages.error(req, zip.error());
  Response res;
  res.body = std::move(zip->content);
  return download_headers(std::move(res), zip->media_type, zip->filename);
}

Response hand_to_efile(const Ctx& c, Request& req) {
  return step(c, req, "efile", {}, [&](const Staffer& who, const Case& k, auto&) {
    auto r = c.work.hand_to_efile(who, k.id);
    return r ? core::Status{} : core::Status{core::fail(r.error())};
  });
}

Response audit_page(const Ctx& c, Request& req) {
  auto who = staffer(c, req);
  if (auto r = refuse(c, req, who)) return *r;
  auto trail = c.work.audit_trail(*who, req.param("id"));
  if (!trail) return c.pages.error(req, trail.error());
  // audit_trail recorded this read; the facts of the page are read without a second record
  auto k = c.cases.find(tenants_of(*who), req.param("id"));
  if (!k) return c.pages.error(req, k.error());
  View model;
  model.set("id", k->id);
  model.set("title", fmt::format("{} {}", c.t(req, "audit.title"), k->reference));
  model.set_list("entries", {});
  for (const auto& e : *trail) {
    View v;
    v.set("at", core::format_berlin(e.at));
    v.set("actor", e.actor);
    v.set("what", e.action.starts_with("read:")
                      ? fmt::format("{} ({})", c.t(req, "audit.read"), e.action.substr(5))
                      : c.named(req, "timeline", e.action));
    v.set("detail", e.action.starts_with("read:") ? std::string() : timeline_detail(c, req, e));
    model.add("entries", std::move(v));
  }
  return c.pages.render(req, "cases/staff_audit", std::move(model));
}

}  // namespace

void register_staff_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, cases, work, options});
  router.get("/verwaltung/vorgaenge", [c](Request& req) { return inbox(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}", [c](Request& req) { return show(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/zuweisen", [c](Request& req) { return assign(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/aktenzeichen",
              [c](Request& req) { return aktenzeichen(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/status", [c](Request& req) { return move(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/nachforderung",
              [c](Request& req) { return request_documents(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/frist", [c](Request& req) { return extend(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/nachrichten",
              [c](Request& req) { return send_message(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}/nachrichten/{message}/{n}", [c](Request& req) {
    return attachment(*c, req, "message", &Casework::read_message_file);
  });
  router.post("/verwaltung/vorgaenge/{id}/abgabe", [c](Request& req) { return forward(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/stellungnahmen",
              [c](Request& req) { return ask_statement(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/stellungnahmen/{statement}/zurueckziehen",
              [c](Request& req) { return cancel_statement(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}/stellungnahmen/{statement}/{n}", [c](Request& req) {
    return attachment(*c, req, "statement", &Casework::read_statement_file);
  });
  router.post("/verwaltung/vorgaenge/{id}/post", [c](Request& req) { return posted(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}/bescheid",
             [c](Request& req) { return notice_form(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/bescheid", [c](Request& req) { return decide(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}/bescheide/{notice}",
             [c](Request& req) { return notice_pdf(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}/unterlagen.zip",
             [c](Request& req) { return documents_zip(*c, req); });
  router.post("/verwaltung/vorgaenge/{id}/eakte",
              [c](Request& req) { return hand_to_efile(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}/protokoll",
             [c](Request& req) { return audit_page(*c, req); });
  for (const std::string kind : {"pdf", "xml", "json"}) {
    router.get("/verwaltung/vorgaenge/{id}/antrag." + kind,
               [c, kind](Request& req) { return answers(*c, req, kind); });
  }
  router.get("/verwaltung/vorgaenge/{id}/dokumente/{n}",
             [c](Request& req) { return document(*c, req); });
}

}  // namespace mvsp::cases
