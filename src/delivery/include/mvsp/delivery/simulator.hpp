#pragma once
// SIMULATOR of a federal mailbox (BundID's citizen mailbox or the MUK organisation
// mailbox) for development and tests, never for production: it checks and stores
// message_v6 envelopes with their attachments, answers with a storage receipt, and can be
// told to be unreachable, slow, or to answer "account deleted". A page shows what it holds
// and lets a tester "open" a message, which confirms the retrieval to the sender.

#include <chrono>
#include <memory>
#include <mvsp/web/ports.hpp>
#include <string>
#include <vector>

namespace mvsp::delivery {

struct MailboxSimulatorOptions {
  std::string type = "bundid";  // or "muk"
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
};

class MailboxSimulator {
 public:
  enum class Mode { normal, unreachable, slow, account_deleted };

  MailboxSimulator(MailboxSimulatorOptions options, const web::Ports& ports);
  ~MailboxSimulator();
  void start();
  void stop();
  int port() const;
  std::string base_url() const;

  void set_mode(Mode mode, std::chrono::milliseconds slow_delay = std::chrono::seconds(5));
  // Messages stored, and how many delivery requests reached it (answered or not).
  std::size_t stored() const;
  std::size_t requests() const;
  // How many stored messages came with this Idempotency-Key (0 or 1).
  std::size_t copies_of(const std::string& key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::delivery
