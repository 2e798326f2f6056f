// The platform's own mailbox: stores through the mailbox component, once per notice, in
// the delivery's transaction (stage) or in one of its own (deliver).
#include <mvsp/delivery/adapters.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <regex>

namespace mvsp::delivery {
namespace {

class MvspAdapter final : public MailboxAdapter {
 public:
  MvspAdapter(mailbox::Mailbox& mailbox, std::string event_job_kind)
      : mailbox_(mailbox), event_job_kind_(std::move(event_job_kind)) {}

  std::string type() const override { return "mvsp"; }

  bool valid_address(std::string_view address) const override {
    // Account and organisation ids: 26 characters of [0-9a-z].
    static const std::regex kId("^[0-9a-z]{26}$");
    return std::regex_match(address.begin(), address.end(), kId);
  }

  DeliveryResult deliver(const OutgoingNotice& notice) override {
    auto stored = mailbox_.store(request_of(notice));
    if (!stored) return std::unexpected(failure_of(stored.error()));
    return receipt_of(*stored);
  }

  LocalStore stage(const OutgoingNotice& notice) override {
    auto prepared = mailbox_.prepare(request_of(notice));
    if (!prepared) {
      return [failure = failure_of(prepared.error())](core::db::Connection&) -> DeliveryResult {
        return std::unexpected(failure);
      };
    }
    return [this, p = std::make_shared<mailbox::PreparedMessage>(std::move(*prepared))](
               core::db::Connection& tx) -> DeliveryResult {
      auto stored = mailbox_.store(tx, *p);
      if (!stored) return std::unexpected(failure_of(stored.error()));
      return receipt_of(*stored);
    };
  }

 private:
  mailbox::StoreRequest request_of(const OutgoingNotice& notice) const {
    mailbox::StoreRequest r{.owner_id = notice.address,
                            .source_ref = "delivery:" + notice.id,
                            .notice = true,
                            .sender = notice.sender,
                            .subject = notice.subject,
                            .body = notice.body,
                            .reference = notice.reference,
                            .required_level = notice.required_level,
                            .attachments = {},
                            .event_job_kind = event_job_kind_};
    for (const auto& d : notice.documents) {
      r.attachments.push_back({d.filename, d.media_type, d.content});
    }
    return r;
  }

  static DeliveryFailure failure_of(const core::Error& e) {
    if (e.code == core::ErrorCode::not_found) return {true, "account_deleted", e.message};
    if (e.code == core::ErrorCode::invalid_input || e.code == core::ErrorCode::conflict) {
      std::string detail = e.message;
      for (const auto& f : e.fields) detail += "; " + f.field + ": " + f.message;
      return {true, "rejected", detail};
    }
    return {false, "unavailable", e.message};
  }

  static DeliveryReceipt receipt_of(const mailbox::Receipt& r) {
    return {r.message_id, r.provided_at, r.deemed_announced_on};
  }

  mailbox::Mailbox& mailbox_;
  std::string event_job_kind_;
};

}  // namespace

std::unique_ptr<MailboxAdapter> make_mvsp_adapter(mailbox::Mailbox& mailbox,
                                                  std::string event_job_kind) {
  return std::make_unique<MvspAdapter>(mailbox, std::move(event_job_kind));
}

}  // namespace mvsp::delivery
