// The SMTP mailer against a real mail server (tests/support/smtp_sink.py): the one place
// that writes mail headers refuses a value that would start another header.
#include <gtest/gtest.h>

#include <mvsp/core/mail.hpp>

#include "support.hpp"

namespace mvsp::core {
namespace {

TEST(SmtpMailer, SendsAMailAndRefusesLineBreaksInHeaders) {
  test::SmtpSink sink;
  SmtpMailer mailer(
      {.host = "127.0.0.1", .port = sink.port(), .from = "Serviceportal <noreply@mv.example>"});
  struct Case {
    const char* field;
    MailMessage message;
  };
  const Case refused[] = {
      {"subject", {.to = "anna@example.org", .subject = "Bescheid\r\nBcc: mallory@evil.example"}},
      {"subject",
       {.to = "anna@example.org", .subject = "Bescheid\nReply-To: mallory@evil.example"}},
      {"to", {.to = "anna@example.org\r\nBcc: mallory@evil.example", .subject = "Bescheid"}},
      {"message_id",
       {.to = "anna@example.org", .subject = "Bescheid", .message_id = "x\r\nBcc: m"}},
      {"subject", {.to = "anna@example.org", .subject = std::string("Bescheid\0x", 10)}},
  };
  for (const auto& c : refused) {
    auto sent = mailer.send(c.message);
    ASSERT_FALSE(sent) << c.field;
    EXPECT_EQ(sent.error().code, ErrorCode::invalid_input);
    ASSERT_EQ(sent.error().fields.size(), 1u);
    EXPECT_EQ(sent.error().fields[0].field, c.field);
  }
  ASSERT_TRUE(mailer.send({.to = "anna@example.org",
                           .subject = "Ihr Bescheid\tist da",
                           .body = "Zeile eins\r\nZeile zwei"}));
  auto mails = sink.wait_for(1);
  ASSERT_EQ(mails.size(), 1u) << "none of the refused mails went out";
  EXPECT_EQ(mails[0].to, "anna@example.org");
  EXPECT_EQ(mails[0].subject, "Ihr Bescheid\tist da");
  EXPECT_NE(mails[0].body.find("Zeile zwei"), std::string::npos) << "the body may have lines";
}

}  // namespace
}  // namespace mvsp::core
