// The delivery service killed with SIGKILL while it delivers 1,000 notices, then started
// again: every notice ends stored, in exactly one copy in the mailbox.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/templates.hpp>
#include <thread>

#include "app.hpp"
#include "bridges.hpp"
#include "process.hpp"
#include "support.hpp"

namespace mvsp::app {
namespace {

using namespace std::chrono_literals;

class DeliveryCrash : public test::BackendTest {
 protected:
  std::int64_t count(const std::string& sql) { return db().query_one(sql)->integer(0); }

  template <typename F>
  bool wait_for(F done, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }

  core::SystemClock clock_;
  core::RandomIdGenerator ids_;
  test::TempDir dir_;
};

TEST_P(DeliveryCrash, EveryNoticeEndsInExactlyOneStoredCopyAfterAKill) {
  constexpr int kNotices = 1000;
  core::crypto::init();
  database_->migrate(clock_);
  auto key = core::crypto::random_bytes(32);
  auto data = dir_.path() / "data";
  web::Catalog texts;
  texts.add(identity::embedded_resources());
  core::JobQueue jobs(db(), clock_, ids_);
  core::AuditLog audit(clock_);
  identity::Identity identity(db(), clock_, ids_, jobs, audit, texts,
                              {.public_url = "http://127.0.0.1", .key = key});
  auto tenant = identity.staff.create_tenant("Landeshauptstadt Schwerin", "test");
  auto citizen = identity.accounts.create_account({.email = "erika@example.org",
                                                   .password = "Sehr-geheimes-Passwort-1",
                                                   .given_name = "Erika",
                                                   .family_name = "Mustermann",
                                                   .verified = true},
                                                  "test");
  ASSERT_TRUE(tenant && citizen);
  {
    // The notices are accepted as the API accepts them, with this installation's key.
    app::TenantSenders senders(identity.staff);
    app::MailboxOwners owners(identity.organisations);
    delivery::Delivery delivery(
        db(), clock_, ids_, jobs, audit, senders,
        {.public_url = "http://127.0.0.1",
         .master_key = key,
         .data_dir = data,
         .limits = {.rate_per_second = 1e6, .burst = 1000000, .daily_quota = 1000000},
         .fetch = app::system_ports().http(std::chrono::seconds(10))});
    core::BlobStore blobs(data / "blobs", key);
    mailbox::Mailbox mailbox(db(), clock_, ids_, jobs, audit, blobs, owners, texts, {});
    delivery.add_adapter(
        delivery::make_mvsp_adapter(mailbox, delivery::Delivery::kMailboxEventJob));
    for (int i = 0; i < kNotices; ++i) {
      auto a =
          delivery.accept({"fachverfahren", tenant->id},
                          {.recipient = "mvsp:" + citizen->id,
                           .subject = fmt::format("Bescheid {}", i),
                           .body = "Anbei Ihr Bescheid.",
                           .required_level = "low",
                           .reference = fmt::format("AZ-{}", i),
                           .documents = {{"bescheid.pdf", "application/pdf",
                                          fmt::format("%PDF-1.7\n% Bescheid {}\n%%EOF\n", i)}}},
                          fmt::format("crash-{}", i));
      ASSERT_TRUE(a) << a.error().message;
    }
  }
  auto config = (dir_.path() / "mvsp.toml").string();
  std::ofstream(config) << fmt::format(
      "[secrets]\nmaster_key = \"{}\"\n[jobs]\nworkers = 4\nlease_seconds = 2\n"
      "[log]\nlevel = \"warn\"\n[mail]\nsmtp_port = 1\n",
      core::crypto::to_hex(key));
  std::vector<std::string> args{"serve",          "--listen",     "127.0.0.1:0", "--database",
                                database_->url(), "--data-dir",   data.string(), "--config",
                                config,           "--components", "delivery"};
  const std::string stored = "SELECT COUNT(*) FROM delivery_notices WHERE status = 'stored'";
  {
    test::Process first(args, (dir_.path() / "first.log").string());
    ASSERT_TRUE(wait_for([&] { return count(stored) >= 150; }, 120s)) << count(stored);
    first.stop(SIGKILL);
  }
  auto at_kill = count(stored);
  EXPECT_LT(at_kill, kNotices) << "the kill came too late to prove anything";
  {
    test::Process second(args, (dir_.path() / "second.log").string());
    ASSERT_TRUE(wait_for([&] { return count(stored) == kNotices; }, 300s)) << count(stored);
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM mailbox_messages"), kNotices);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT source_ref) FROM mailbox_messages"), kNotices);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_proof WHERE step = 'receipt'"), kNotices);
  EXPECT_EQ(count("SELECT COUNT(*) FROM delivery_notices WHERE status <> 'stored'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM mailbox_attachments"), kNotices);
}

INSTANTIATE_TEST_SUITE_P(Databases, DeliveryCrash, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::app
