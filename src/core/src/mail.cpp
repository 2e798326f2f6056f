#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/StringPartSource.h>
#include <fmt/format.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/text.hpp>
#include <regex>
#include <sstream>

namespace mvsp::core {
namespace net = Poco::Net;

namespace {

// The SMTP reply code in an error text ("550 5.1.1 unknown user" → 550), 0 if none.
int reply_code(const std::string& text) {
  static const std::regex kCode(R"(\b([245]\d\d)\b)");
  std::smatch m;
  return std::regex_search(text, m, kCode) ? std::stoi(m[1]) : 0;
}

}  // namespace

Status SmtpMailer::send(const MailMessage& message) {
  // The one place that writes mail headers: a value with a line break would end the header
  // and start another (or the body) that the caller never wrote.
  for (const auto& [field, value] : {std::pair<const char*, std::string_view>{"to", message.to},
                                     {"subject", message.subject},
                                     {"message_id", message.message_id},
                                     {"from", options_.from}}) {
    if (!is_single_line(value)) {
      return fail(Error::invalid(field, "must not contain a line break or control character"));
    }
  }
  try {
    net::SMTPClientSession session(options_.host, static_cast<Poco::UInt16>(options_.port));
    session.setTimeout(Poco::Timespan(options_.timeout_seconds, 0));
    if (options_.username.empty()) {
      session.login();
    } else {
      session.login(net::SMTPClientSession::AUTH_LOGIN, options_.username, options_.password);
    }
    net::MailMessage mail;
    mail.setSender(options_.from);
    mail.addRecipient(net::MailRecipient(net::MailRecipient::PRIMARY_RECIPIENT, message.to));
    mail.setSubject(net::MailMessage::encodeWord(message.subject, "UTF-8"));
    mail.setContentType("text/plain; charset=UTF-8");
    mail.setContent(message.body, net::MailMessage::ENCODING_QUOTED_PRINTABLE);
    if (!message.message_id.empty()) {
      // The sender's domain makes the id globally unique (RFC 5322 3.6.4).
      auto at = options_.from.rfind('@');
      auto domain =
          at == std::string::npos ? std::string("localhost") : options_.from.substr(at + 1);
      if (auto end = domain.find('>'); end != std::string::npos) domain.resize(end);
      mail.set("Message-ID", "<" + message.message_id + "@" + domain + ">");
    }
    session.sendMessage(mail);
    session.close();
    return {};
  } catch (const net::SMTPException& e) {
    int code = reply_code(e.displayText());
    if (code >= 500) {
      return fail(
          Error::invalid("to", fmt::format("the mail server refused: {}", e.displayText())));
    }
    return fail(Error::unavailable("mail server busy", e.displayText()));
  } catch (const Poco::Exception& e) {
    return fail(Error::unavailable("mail server unreachable", e.displayText()));
  }
}

void queue_mail(JobQueue& queue, db::Connection& tx, const MailMessage& message,
                std::string idempotency_key) {
  Poco::JSON::Object payload;
  payload.set("to", message.to);
  payload.set("subject", message.subject);
  payload.set("body", message.body);
  std::ostringstream out;
  payload.stringify(out);
  queue.enqueue_later(tx, {.kind = "core.mail",
                           .payload = out.str(),
                           .idempotency_key = std::move(idempotency_key),
                           .max_attempts = 12,
                           // Bodies carry confirmation, reset and invitation links.
                           .sensitive = true});
}

void register_mail_job(JobRunner& runner, Mailer& mailer) {
  runner.handle(
      "core.mail",
      [&mailer](JobContext& ctx) {
        Poco::JSON::Parser parser;
        auto p = parser.parse(ctx.job.payload).extract<Poco::JSON::Object::Ptr>();
        // One recipient per job: a retry mails only this one. The id is the same on every
        // attempt (the idempotency key when there is one, else the job).
        const auto& key = ctx.job.idempotency_key.empty() ? ctx.job.id : ctx.job.idempotency_key;
        MailMessage m{p->getValue<std::string>("to"), p->getValue<std::string>("subject"),
                      p->getValue<std::string>("body"),
                      "mvsp." + crypto::sha256_hex(key).substr(0, 32)};
        auto sent = mailer.send(m);
        if (sent) {
          log::info("mail.sent", {{"job", ctx.job.id}});
          return JobOutcome::ok();
        }
        const auto& e = sent.error();
        auto why = e.detail.empty() ? e.message : e.detail;
        if (e.code == ErrorCode::invalid_input) return JobOutcome::permanent(why);
        return JobOutcome::retry(why);
      },
      // Mail servers come back within minutes; a day of retries is enough.
      RetryPolicy{.base = std::chrono::seconds(30), .cap = std::chrono::hours(2)});
}

}  // namespace mvsp::core
