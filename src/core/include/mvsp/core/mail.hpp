#pragma once
// Outgoing e-mail: a port with an SMTP adapter, sent through the jobs table so that a
// mail goes out if and only if the change that causes it commits.

#include <mvsp/core/error.hpp>
#include <string>

namespace mvsp::core {
class JobQueue;
class JobRunner;
namespace db {
class Connection;
}

struct MailMessage {
  std::string to;       // one address
  std::string subject;  // UTF-8
  std::string body;     // plain text, UTF-8
  // The local part of the Message-ID ("<id@domain of the sender>"); empty: the mail server
  // gives one. The mail job derives it from its idempotency key, so a retry of the same
  // mail carries the same id and receivers can tell it is not a second one.
  std::string message_id;
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  // unavailable when worth retrying (server down, 4xx); invalid_input when the server
  // refuses for good (5xx, bad address).
  virtual Status send(const MailMessage& message) = 0;
};

struct SmtpOptions {
  std::string host = "127.0.0.1";
  int port = 25;
  std::string from = "Serviceportal <noreply@localhost>";
  std::string username;  // empty: no authentication
  std::string password;
  int timeout_seconds = 30;
};

// Sends over SMTP with POCO. For TLS to a remote relay, run a local MTA (postfix) that
// relays with TLS; see docs/operations.md.
class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(SmtpOptions options) : options_(std::move(options)) {}
  Status send(const MailMessage& message) override;

 private:
  SmtpOptions options_;
};

// Queues `message` inside the caller's transaction (job kind "core.mail"). With an
// idempotency key, the same mail is queued once.
void queue_mail(JobQueue& queue, db::Connection& tx, const MailMessage& message,
                std::string idempotency_key = {});

// Registers the "core.mail" handler that sends queued mails with `mailer`.
void register_mail_job(JobRunner& runner, Mailer& mailer);

}  // namespace mvsp::core
