// The mailbox SIMULATOR: a small POCO HTTP server on loopback.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/delivery/adapters.hpp>
#include <mvsp/delivery/simulator.hpp>
#include <mvsp/web/client.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/small_server.hpp>
#include <sstream>
#include <thread>

namespace mvsp::delivery {
namespace {

std::string json_error(const std::string& code, const std::string& message) {
  Poco::JSON::Object o;
  o.set("error", code);
  o.set("message", message);
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

const char* mode_name(MailboxSimulator::Mode m) {
  switch (m) {
    case MailboxSimulator::Mode::unreachable:
      return "unreachable";
    case MailboxSimulator::Mode::slow:
      return "slow";
    case MailboxSimulator::Mode::account_deleted:
      return "account_deleted";
    default:
      return "normal";
  }
}

}  // namespace

struct MailboxSimulator::Impl {
  Impl(MailboxSimulatorOptions o, const web::Ports& ports)
      : options(std::move(o)),
        clock(ports.clock),
        ids(ports.ids),
        fetch(ports.http(std::chrono::seconds(5))) {}

  MailboxSimulatorOptions options;
  const core::Clock& clock;
  core::IdGenerator& ids;
  web::HttpFetch fetch;
  std::unique_ptr<web::SmallServer> server;

  struct Stored {
    std::string message_id;
    std::string key;
    ZbpMessage message;
    core::TimePoint stored_at;
    bool retrieved = false;
  };
  mutable std::mutex mutex;
  std::vector<Stored> messages;
  std::map<std::string, std::size_t> by_key;
  Mode mode = Mode::normal;
  std::chrono::milliseconds slow_delay{5000};
  std::size_t requests = 0;

  std::string label() const {
    return options.type == "muk" ? "MUK-Organisationspostfach" : "BundID-Postfach";
  }
  std::string base_url() const {
    return fmt::format("http://{}:{}", options.host, server ? server->port() : 0);
  }

  std::string page(const std::string& title, const std::string& body) const {
    return fmt::format(
        "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>{0} – {1}-SIMULATOR</title></head><body><header><p><strong>SIMULATOR – kein "
        "echtes Postfach.</strong> Dieser Dienst ahmt das {1} für Entwicklung und Tests nach."
        "</p></header><main><h1>{0}</h1>{2}</main></body></html>",
        core::escape_markup(title), core::escape_markup(label()), body);
  }

  // POST /messages: the envelope and its attachments.
  std::pair<int, std::string> receive(const web::Request& req) {
    Mode m;
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mutex);
      ++requests;
      m = mode;
      delay = slow_delay;
    }
    if (m == Mode::unreachable) {
      return {503, json_error("unavailable", "SIMULATOR: das Postfach ist nicht erreichbar")};
    }
    if (m == Mode::slow) std::this_thread::sleep_for(delay);
    auto parts = web::parse_multipart(req);
    if (!parts) return {400, json_error("bad_request", parts.error().message)};
    std::string envelope;
    std::vector<const web::Part*> files;
    for (const auto& p : *parts) {
      if (p.name == "message") envelope = p.body;
      if (p.name == "attachment") files.push_back(&p);
    }
    auto message = open_zbp_envelope(envelope, clock.now());
    if (!message) {
      auto f = message.error().fields.empty() ? std::string("message")
                                              : message.error().fields.front().field;
      return {422,
              json_error("invalid_message", f + ": " +
                                                (message.error().fields.empty()
                                                     ? message.error().message
                                                     : message.error().fields.front().message))};
    }
    if (files.size() != message->attachments.size()) {
      return {422,
              json_error("invalid_message", "attachments: the signed list and the files differ")};
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      const auto& a = message->attachments[i];
      if (a.filename != files[i]->filename ||
          a.sha512 != core::crypto::sha512_hex(files[i]->body) ||
          a.content_length != static_cast<std::int64_t>(files[i]->body.size())) {
        return {422, json_error("invalid_message",
                                fmt::format("attachments[{}]: name, hash or length differ", i))};
      }
    }
    if (m == Mode::account_deleted) {
      return {410, json_error("account_deleted", "SIMULATOR: das Nutzerkonto wurde gelöscht")};
    }
    auto key = req.header("idempotency-key").value_or("");
    std::lock_guard lock(mutex);
    if (!key.empty()) {
      if (auto it = by_key.find(key); it != by_key.end()) {
        return {200, receipt(messages[it->second])};
      }
    }
    messages.push_back({ids.key(), key, *message, clock.now(), false});
    if (!key.empty()) by_key[key] = messages.size() - 1;
    return {201, receipt(messages.back())};
  }

  static std::string receipt(const Stored& s) {
    Poco::JSON::Object o;
    o.set("messageId", s.message_id);
    o.set("storedAt", core::format_utc(s.stored_at));
    std::ostringstream out;
    o.stringify(out);
    return out.str();
  }

  std::string list_json() const {
    std::lock_guard lock(mutex);
    Poco::JSON::Array arr;
    for (const auto& s : messages) {
      Poco::JSON::Object o;
      o.set("messageId", s.message_id);
      o.set("idempotencyKey", s.key);
      o.set("mailboxUuid", s.message.mailbox_uuid);
      o.set("title", s.message.title);
      o.set("sender", s.message.sender);
      o.set("storkQaaLevel", s.message.stork_qaa_level);
      o.set("signer", s.message.signer);
      o.set("attachments", static_cast<int>(s.message.attachments.size()));
      o.set("storedAt", core::format_utc(s.stored_at));
      o.set("retrieved", s.retrieved);
      arr.add(o);
    }
    Poco::JSON::Object out;
    out.set("mode", mode_name(mode));
    out.set("messages", arr);
    std::ostringstream text;
    out.stringify(text);
    return text.str();
  }

  std::string overview() const {
    std::lock_guard lock(mutex);
    std::string rows;
    for (const auto& s : messages) {
      rows += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          core::escape_markup(s.message.title), core::escape_markup(s.message.sender),
          core::escape_markup(s.message.mailbox_uuid), core::format_berlin(s.stored_at),
          s.retrieved ? "abgerufen"
                      : fmt::format("<form method=\"post\" action=\"/messages/{}/open\">"
                                    "<button type=\"submit\">Als Empfänger abrufen</button></form>",
                                    s.message_id));
    }
    std::string modes;
    for (auto m : {Mode::normal, Mode::unreachable, Mode::slow, Mode::account_deleted}) {
      modes += fmt::format(
          "<p><input type=\"radio\" name=\"mode\" id=\"mode-{0}\" value=\"{0}\"{1}> "
          "<label for=\"mode-{0}\">{0}</label></p>",
          mode_name(m), m == mode ? " checked" : "");
    }
    return page(
        label(),
        fmt::format("<h2>Verhalten</h2><form method=\"post\" action=\"/control\"><fieldset>"
                    "<legend>Wie antwortet das Postfach?</legend>{}</fieldset>"
                    "<p><button type=\"submit\">Übernehmen</button></p></form>"
                    "<h2>Gespeicherte Nachrichten ({})</h2><table><thead><tr><th scope=\"col\">"
                    "Titel</th><th scope=\"col\">Absender</th><th scope=\"col\">Postfach</th>"
                    "<th scope=\"col\">Gespeichert</th><th scope=\"col\">Abruf</th></tr></thead>"
                    "<tbody>{}</tbody></table>",
                    modes, messages.size(), rows));
  }

  // The recipient opens a message: the sender hears of it at the address it gave.
  std::pair<int, std::string> open(const std::string& id) {
    std::string address;
    {
      std::lock_guard lock(mutex);
      for (auto& s : messages) {
        if (s.message_id == id) {
          s.retrieved = true;
          address = s.message.retrieval_confirmation_address;
        }
      }
    }
    if (!address.empty() && address.starts_with("http://")) {
      // The confirmation is best effort, as a real mailbox's would be: its answer does not
      // change what the citizen sees.
      if (auto confirmed = fetch("POST", address, {}, ""); !confirmed) {
        core::log::warn("simulator.confirmation_failed", {{"reason", confirmed.error().message}});
      }
    }
    return {303, ""};
  }

  web::Response answer(const web::Request& req) {
    std::pair<int, std::string> answer{404, page("Nicht gefunden", "")};
    std::string type = "text/html; charset=utf-8";
    bool post = req.method == web::Method::post;
    if (post && req.path == "/messages") {
      answer = receive(req);
      type = "application/json";
    } else if (!post && req.path == "/messages") {
      answer = {200, list_json()};
      type = "application/json";
    } else if (post && req.path == "/control") {
      auto mode = req.form("mode").value_or("normal");
      auto delay = std::chrono::milliseconds(std::stoi(req.form("delay_ms").value_or("5000")));
      set_mode(mode == "unreachable"       ? Mode::unreachable
               : mode == "slow"            ? Mode::slow
               : mode == "account_deleted" ? Mode::account_deleted
                                           : Mode::normal,
               delay);
      answer = {303, ""};
    } else if (post && req.path.starts_with("/messages/") && req.path.ends_with("/open")) {
      answer = open(req.path.substr(10, req.path.size() - 15));
    } else if (!post && req.path == "/") {
      answer = {200, overview()};
    }
    web::Response res;
    res.status = answer.first;
    res.body = std::move(answer.second);
    res.set_header("Content-Type", type);
    if (answer.first == 303) res.set_header("Location", "/");
    return res;
  }

  void set_mode(Mode m, std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex);
    mode = m;
    slow_delay = delay;
  }
};

MailboxSimulator::MailboxSimulator(MailboxSimulatorOptions options, const web::Ports& ports)
    : impl_(std::make_unique<Impl>(std::move(options), ports)) {}

MailboxSimulator::~MailboxSimulator() {
  stop();
}

void MailboxSimulator::start() {
  impl_->server = std::make_unique<web::SmallServer>(
      impl_->options.host, impl_->options.port,
      [impl = impl_.get()](const web::Request& req) { return impl->answer(req); },
      64 * 1024 * 1024);
  impl_->server->start();
}

void MailboxSimulator::stop() {
  if (impl_->server) impl_->server->stop();
}

int MailboxSimulator::port() const {
  return impl_->server ? impl_->server->port() : 0;
}
std::string MailboxSimulator::base_url() const {
  return impl_->base_url();
}
void MailboxSimulator::set_mode(Mode mode, std::chrono::milliseconds slow_delay) {
  impl_->set_mode(mode, slow_delay);
}
std::size_t MailboxSimulator::stored() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->messages.size();
}
std::size_t MailboxSimulator::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}
std::size_t MailboxSimulator::copies_of(const std::string& key) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& s : impl_->messages) n += s.key == key ? 1 : 0;
  return n;
}

}  // namespace mvsp::delivery
