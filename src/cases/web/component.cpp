#include <mvsp/cases/component.hpp>
// (own header first)
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/cases/efile_targets.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/letter.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/ports.hpp>

#include "routes.hpp"

namespace mvsp::cases {
namespace {

// Notices go out through the delivery service, as the platform's own client "cases" of the
// authority's tenant; its statuses read as the Vorgang needs them.
class DeliveryChannel final : public NoticeChannel {
 public:
  explicit DeliveryChannel(delivery::Delivery& delivery) : delivery_(delivery) {}

  core::Result<std::string> send(const Outgoing& n) override {
    auto accepted = delivery_.accept({kClient, n.tenant_id},
                                     {.recipient = n.recipient,
                                      .subject = n.subject,
                                      .body = n.body,
                                      .required_level = "low",
                                      .reference = n.reference,
                                      .documents = {{n.filename, "application/pdf", n.pdf}}},
                                     n.idempotency_key);
    if (!accepted) return core::fail(accepted.error());
    return accepted->notice.id;
  }

  core::Result<Progress> progress(std::string_view tenant_id, std::string_view id) override {
    auto n = delivery_.find({kClient, std::string(tenant_id)}, std::string(id));
    if (!n) return core::fail(n.error());
    Progress p;
    if (n->status == delivery::kStored || n->status == delivery::kRetrieved) {
      p.status = "stored";
      p.stored_at = n->stored_at;
      p.deemed_announced_on = n->deemed_announced_on;
      p.receipt_message_id = n->receipt_message_id;
    } else if (n->status == delivery::kUndeliverable) {
      p.status = "postal";
    }
    return p;
  }

 private:
  static constexpr const char* kClient = "cases";
  delivery::Delivery& delivery_;
};

// A decision notice as a letter of the authority (forms draws it, accessible).
std::string render_notice(const std::string& authority, const std::string& title,
                          const std::vector<std::string>& recipient,
                          const std::vector<std::pair<std::string, std::string>>& references,
                          const std::string& body) {
  forms::PdfLetter letter;
  letter.title = title;
  letter.sender = {authority};
  letter.recipient = recipient;
  letter.references = references;
  letter.body = forms::letter_blocks(body);
  letter.footer = {
      "Dieses Schreiben wurde elektronisch erstellt und mit dem Siegel der Behörde "
      "versehen; es ist ohne Unterschrift gültig."};
  return forms::render_letter(letter);
}

// The online services `authority` takes paper applications for: its own and those it
// adopted, in production, asking a form of the platform.
std::vector<PaperService> paper_services(catalog::Catalog& catalog, std::string_view authority) {
  std::vector<PaperService> out;
  for (const auto& os : catalog.online_services()) {
    bool its =
        os.owner == authority || std::ranges::find(os.adopted_by, authority) != os.adopted_by.end();
    if (!its || os.state != "production" || os.config.form.empty() ||
        !os.config.external_url.empty())
      continue;
    out.push_back({.id = os.id,
                   .name = os.name,
                   .version = os.version,
                   .form_key = os.config.form,
                   .form_version = os.config.form_version});
  }
  std::ranges::sort(out, {}, &PaperService::name);
  return out;
}

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "cases"; }
  std::vector<std::string_view> needs() const override {
    return {"identity", "catalog", "delivery", "forms"};
  }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  std::vector<Subscription> subscriptions() const override {
    return {{std::string(kCaseReceived), std::string(kAutoDecideJob)}};
  }

  // [cases] efile = "none" | "folder" | "cmis": where finished Vorgänge are filed
  // (docs/cases.md, "E-file hand-over"). The target is made here, so that a folder that is
  // not there or a CMIS address that is no URL stops the start with the key named.
  void configure(core::Config& config) override {
    auto section = config.section("cases");
    auto kind = section.choice("efile", "none", {"none", "folder", "cmis"});
    location_ = section.string("efile_location", "");
    // every key is read, so that the other kind's keys may stay when the kind changes
    auto folder = section.string("efile_folder", "");
    CmisOptions cmis{.repository_url = section.string("cmis_url", ""),
                     .folder_path = section.string("cmis_folder", ""),
                     .user = section.string("cmis_user", ""),
                     .password = section.string("cmis_password", "")};
    core::Result<std::unique_ptr<EfileTarget>> made = nullptr;
    if (kind == "folder") {
      made = make_import_folder_target({.directory = folder});
    } else if (kind == "cmis") {
      // requests go through the platform's HTTP client, which exists from build() on
      made = make_cmis_target(
          std::move(cmis),
          [this](const std::string& method, const std::string& url,
                 const std::vector<std::pair<std::string, std::string>>& h,
                 const std::string& body) { return fetch_(method, url, h, body); });
    }
    if (!made) {
      static const std::map<std::string, std::string, std::less<>> kKeys = {
          {"directory", "efile_folder"},
          {"repository_url", "cmis_url"},
          {"folder_path", "cmis_folder"},
          {"user", "cmis_user"}};
      for (const auto& f : made.error().fields) {
        auto key = kKeys.find(f.field);
        section.reject(key == kKeys.end() ? "efile" : key->second, f.message);
      }
      if (made.error().fields.empty()) section.reject("efile", made.error().message);
      return;
    }
    efile_ = std::move(*made);
  }

  // Its own blob store: the platform's is the mailbox's, whose sweep removes every blob
  // that no mailbox row names.
  void build(web::Platform& p) override {
    blobs_ = std::make_unique<core::BlobStore>(p.data_dir / "cases", p.master_key);
    cases_ = std::make_unique<Cases>(p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit, *blobs_);
    p.services.offer(*cases_);
    channel_ = std::make_unique<DeliveryChannel>(p.services.need<delivery::Delivery>());
    fetch_ = p.ports.http(std::chrono::seconds(60));
    auto* directory = &p.services.need<StaffDirectory>();
    auto* catalog = &p.services.need<catalog::Catalog>();
    work_ = std::make_unique<Casework>(
        p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit, *blobs_, *cases_,
        CaseworkOptions{
            .master_key = p.master_key,
            .public_url = p.public_url,
            .texts = &p.texts,
            .colleagues = [directory](std::string_view t) { return directory->colleagues(t); },
            .tenant_name = [directory](std::string_view t) { return directory->tenant_name(t); },
            .tools = {.render = render_notice},
            .channel = channel_.get(),
            .efile = efile_.get(),
            .efile_location = location_,
            .scanner = p.scanner,
            .authorities =
                [catalog] {
                  std::vector<AuthorityRef> out;
                  for (const auto& a : catalog->authorities()) {
                    out.push_back({.id = a.id, .name = a.name, .tenant_id = a.tenant_id});
                  }
                  return out;
                },
            .paper_services =
                [catalog](std::string_view authority) {
                  return paper_services(*catalog, authority);
                },
            .forms = &p.services.need<forms::Forms>()});
    p.services.offer(*work_);
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    auto& staff = p.services.need<catalog::StaffRoles>();
    auto& catalog = p.services.need<catalog::Catalog>();
    auto* directory = &p.services.need<StaffDirectory>();
    PageOptions options{
        .roles_of = [&staff](const std::string& account) { return staff.roles_of(account); },
        .authorities_of =
            [&catalog](const std::vector<std::string>& ids) {
              std::vector<std::pair<std::string, std::string>> out;
              for (const auto& a : catalog.authorities()) {
                if (std::find(ids.begin(), ids.end(), a.tenant_id) != ids.end()) {
                  out.emplace_back(a.id, a.name);
                }
              }
              std::ranges::sort(out, {}, &std::pair<std::string, std::string>::second);
              return out;
            },
        .colleagues = [directory](std::string_view t) { return directory->colleagues(t); },
        .online_services_of =
            [&catalog](std::string_view tenant) {
              std::vector<std::string> mine;
              for (const auto& a : catalog.authorities()) {
                if (a.tenant_id == tenant) mine.push_back(a.id);
              }
              std::vector<std::pair<std::string, std::string>> out;
              for (const auto& os : catalog.online_services()) {
                if (std::ranges::any_of(os.adopted_by, [&](const std::string& a) {
                      return std::ranges::find(mine, a) != mine.end();
                    })) {
                  out.emplace_back(os.id, os.name);
                }
              }
              std::ranges::sort(out, {}, &std::pair<std::string, std::string>::second);
              return out;
            },
        .forms = &p.services.need<forms::Forms>(),
        .clock = &p.ports.clock};
    register_paper_pages(p.router, p.pages, *cases_, *work_, options);
    register_staff_pages(p.router, p.pages, *cases_, *work_, options);
    register_admin_pages(p.router, p.pages, *cases_, *work_, options);
    register_participation_pages(p.router, p.pages, *cases_, *work_, options);
  }

  void jobs(web::Platform& p) override {
    if (!p.runs(name())) return;
    work_->register_jobs(p.runner);
    p.runner.every(
        "cases.remove_unnamed_documents", core::kUnnamedBlobSweepPeriod, [this](core::JobContext&) {
          if (auto n = cases_->remove_unnamed_documents(); n > 0) {
            core::log::info("cases.unnamed_documents_removed", {{"count", std::to_string(n)}});
          }
          return core::JobOutcome::ok();
        });
  }

 private:
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<Cases> cases_;
  std::unique_ptr<DeliveryChannel> channel_;
  std::unique_ptr<Casework> work_;
  std::unique_ptr<EfileTarget> efile_;
  std::string location_;
  web::HttpFetch fetch_;
};

}  // namespace

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::cases
