// The CMIS 1.1 adapter of the e-file hand-over, on the browser binding (JSON over HTTP,
// form posts for changes): repository info for the root folder URL, objects by path,
// folder children, createFolder and createDocument. Every request carries Basic
// credentials; the DMS decides what the user may do.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <mvsp/cases/efile_targets.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <vector>

namespace mvsp::cases {
namespace {

using Json = Poco::JSON::Object::Ptr;

// Pages of children are read until the listing ends; this many pages at most, so a server
// that always says "more" cannot keep a job busy for ever.
constexpr int kMaxChildPages = 1000;
constexpr int kPageSize = 100;

// The value of a property in either of the browser binding's forms: succinct
// ({"succinctProperties":{"cmis:name":"x"}}) or full ({"properties":{"cmis:name":
// {"value":"x"}}}); a multi-valued property gives its first value.
std::string property(const Json& object, const std::string& id) {
  if (!object) return {};
  Poco::Dynamic::Var value;
  if (auto succinct = object->getObject("succinctProperties"); succinct && succinct->has(id)) {
    value = succinct->get(id);
  } else if (auto full = object->getObject("properties"); full && full->has(id)) {
    if (auto p = full->getObject(id); p && p->has("value")) value = p->get("value");
  }
  if (value.isEmpty()) return {};
  if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
    auto a = value.extract<Poco::JSON::Array::Ptr>();
    return a && a->size() > 0 && !a->get(0).isEmpty() ? a->get(0).convert<std::string>()
                                                      : std::string();
  }
  return value.convert<std::string>();
}

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

// "/Eingang/Online-Anträge" as the part of a URL after the root folder URL, each segment
// percent-encoded.
std::string path_suffix(const std::string& path) {
  std::string out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start)
      out += "/" + web::url_encode(std::string_view(path).substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join_path(const std::string& folder, const std::string& name) {
  return folder == "/" ? "/" + name : folder + "/" + name;
}

// The error for an answer that is not 2xx. What the DMS said goes to the log only.
core::Error status_error(int status, const std::string& doing, const std::string& url,
                         const std::string& body) {
  auto detail =
      fmt::format("{} {} answered {}: {}", doing, url, status, core::truncate_utf8(body, 300));
  core::Error e = [&]() {
    switch (status) {
      case 401:
        return core::Error::unauthenticated(
            "Das DMS hat Benutzername oder Passwort der Plattform abgelehnt.");
      case 403:
        return core::Error::forbidden(
            fmt::format("Das DMS erlaubt der Plattform nicht: {}.", doing));
      case 404:
        return core::Error::not_found(fmt::format("Das DMS kennt das Ziel nicht: {}.", doing));
      case 409:
        return core::Error::conflict(fmt::format("Das DMS meldet einen Konflikt: {}.", doing));
      default:
        break;
    }
    if (status == 408 || status == 429 || status >= 500) {
      return core::Error::unavailable(fmt::format("Das DMS ist gerade nicht bereit: {}.", doing));
    }
    return core::Error{core::ErrorCode::invalid_input,
                       fmt::format("Das DMS hat die Anfrage abgelehnt: {}.", doing)};
  }();
  e.detail = std::move(detail);
  return e;
}

class CmisTarget final : public EfileTarget {
 public:
  CmisTarget(CmisOptions options, web::HttpFetch fetch)
      : options_(std::move(options)),
        fetch_(std::move(fetch)),
        authorization_("Basic " + core::crypto::base64(options_.user + ":" + options_.password)) {}

  std::string name() const override {
    return "cmis:" + options_.repository_url + " " + options_.folder_path;
  }

  core::Status deliver(const EfileContainer& container) override {
    if (!core::is_plain_filename(container.reference) ||
        !core::is_plain_filename(container.zip_name)) {
      return core::fail(core::Error::invalid(
          "reference", "Vorgangsnummer und Containername müssen als Namen im DMS taugen."));
    }
    auto root = root_folder_url();
    if (!root) return core::fail(std::move(root.error()));

    auto target = object_by_path(*root, options_.folder_path, "den Zielordner lesen");
    if (!target) {
      if (target.error().code == core::ErrorCode::not_found) {
        auto e = core::Error::not_found(
            fmt::format("Den Zielordner {} gibt es im DMS nicht.", options_.folder_path));
        e.detail = target.error().detail;
        return core::fail(std::move(e));
      }
      return core::fail(std::move(target.error()));
    }
    if (auto ok = must_be_folder(*target, options_.folder_path); !ok) return ok;

    auto case_path = join_path(options_.folder_path, container.reference);
    auto folder = find_or_create_folder(*root, case_path, container.reference);
    if (!folder) return core::fail(std::move(folder.error()));

    auto there = holds_document(*root, case_path, container.zip_name);
    if (!there) return core::fail(std::move(there.error()));
    if (*there) return {};

    auto created = create_document(*root, case_path, container);
    if (!created && created.error().code == core::ErrorCode::conflict) {
      // Another run filed it between our look and our upload.
      auto now_there = holds_document(*root, case_path, container.zip_name);
      if (now_there && *now_there) return {};
    }
    return created;
  }

 private:
  core::Result<std::string> call(const std::string& method, const std::string& url,
                                 const std::string& content_type, const std::string& body,
                                 const std::string& doing) {
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", authorization_},
                                                             {"Accept", "application/json"}};
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    auto answer = fetch_(method, url, headers, body);
    if (!answer) {
      return core::fail(core::Error::unavailable(
          fmt::format("Das DMS ist nicht erreichbar: {}.", doing), answer.error().message));
    }
    if (answer->status < 200 || answer->status > 299) {
      return core::fail(status_error(answer->status, doing, url, answer->body));
    }
    return std::move(answer->body);
  }

  core::Result<Json> call_json(const std::string& method, const std::string& url,
                               const std::string& content_type, const std::string& body,
                               const std::string& doing) {
    auto text = call(method, url, content_type, body, doing);
    if (!text) return core::fail(std::move(text.error()));
    try {
      Poco::JSON::Parser parser;
      auto parsed = parser.parse(*text);
      if (parsed.type() == typeid(Json)) return parsed.extract<Json>();
    } catch (const Poco::Exception&) {
      // answered below
    }
    // An HTML page from a proxy or a login form: perhaps gone when the proxy is back.
    return core::fail(core::Error::unavailable(
        fmt::format("Das DMS antwortet nicht wie ein CMIS-Repository: {}.", doing),
        fmt::format("{} {}: {}", method, url, core::truncate_utf8(*text, 200))));
  }

  core::Result<std::string> root_folder_url() {
    auto info = call_json("GET", with_query(options_.repository_url, "cmisselector=repositoryInfo"),
                          "", "", "das Repository lesen");
    if (!info) return core::fail(std::move(info.error()));
    // The answer maps repository ids to their info; the URL of one repository has one.
    for (const auto& [id, value] : **info) {
      if (value.type() != typeid(Json)) continue;
      auto repository = value.extract<Json>();
      if (repository && repository->has("rootFolderUrl")) {
        return repository->getValue<std::string>("rootFolderUrl");
      }
    }
    return core::fail(core::Error::unavailable(
        "Das DMS nennt keinen Wurzelordner des Repositorys.",
        fmt::format("{}: no rootFolderUrl in the repository info", options_.repository_url)));
  }

  core::Result<Json> object_by_path(const std::string& root, const std::string& path,
                                    const std::string& doing) {
    return call_json("GET",
                     with_query(root + path_suffix(path), "cmisselector=object&succinct=true"), "",
                     "", doing);
  }

  static core::Status must_be_folder(const Json& object, const std::string& path) {
    if (property(object, "cmis:baseTypeId") == "cmis:folder") return {};
    return core::fail(core::Error::conflict(
        fmt::format("Im DMS ist {} kein Ordner, sondern ein anderes Objekt.", path)));
  }

  core::Status find_or_create_folder(const std::string& root, const std::string& path,
                                     const std::string& name) {
    auto folder = object_by_path(root, path, "den Ordner des Vorgangs lesen");
    if (folder) return must_be_folder(*folder, path);
    if (folder.error().code != core::ErrorCode::not_found)
      return core::fail(std::move(folder.error()));

    auto form = fmt::format(
        "cmisaction=createFolder&propertyId%5B0%5D=cmis%3Aname&propertyValue%5B0%5D={}"
        "&propertyId%5B1%5D=cmis%3AobjectTypeId&propertyValue%5B1%5D=cmis%3Afolder&succinct=true",
        web::url_encode(name));
    auto made =
        call_json("POST", root + path_suffix(options_.folder_path),
                  "application/x-www-form-urlencoded", form, "den Ordner des Vorgangs anlegen");
    if (made) return must_be_folder(*made, path);
    if (made.error().code != core::ErrorCode::conflict) return core::fail(std::move(made.error()));
    // Made by another run meanwhile: it is there now.
    auto again = object_by_path(root, path, "den Ordner des Vorgangs lesen");
    if (!again) return core::fail(std::move(again.error()));
    return must_be_folder(*again, path);
  }

  core::Result<bool> holds_document(const std::string& root, const std::string& path,
                                    const std::string& name) {
    auto url = root + path_suffix(path);
    // A server may give fewer children per page than asked for: the next page starts after
    // what this one held.
    std::size_t skip = 0;
    for (int page = 0; page < kMaxChildPages; ++page) {
      auto listing = call_json(
          "GET",
          with_query(url,
                     fmt::format("cmisselector=children&succinct=true&maxItems={}&skipCount={}",
                                 kPageSize, skip)),
          "", "", "den Inhalt des Ordners lesen");
      if (!listing) return core::fail(std::move(listing.error()));
      auto objects = (*listing)->getArray("objects");
      std::size_t count = objects ? objects->size() : 0;
      for (std::size_t i = 0; i < count; ++i) {
        auto entry = objects->getObject(static_cast<unsigned>(i));
        auto object = entry ? entry->getObject("object") : Json();
        if (property(object, "cmis:name") == name &&
            property(object, "cmis:baseTypeId") == "cmis:document") {
          return true;
        }
      }
      bool more = (*listing)->has("hasMoreItems") && (*listing)->getValue<bool>("hasMoreItems");
      if (!more || count == 0) return false;
      skip += count;
    }
    return false;
  }

  core::Status create_document(const std::string& root, const std::string& path,
                               const EfileContainer& c) {
    // The content goes last: some servers read the properties before the stream.
    auto body = web::build_multipart({
        {.name = "cmisaction", .body = "createDocument"},
        {.name = "propertyId[0]", .body = "cmis:name"},
        {.name = "propertyValue[0]", .body = c.zip_name},
        {.name = "propertyId[1]", .body = "cmis:objectTypeId"},
        {.name = "propertyValue[1]", .body = "cmis:document"},
        {.name = "succinct", .body = "true"},
        {.name = "content",
         .filename = c.zip_name,
         .content_type = "application/zip",
         .body = c.zip},
    });
    auto made = call("POST", root + path_suffix(path), body.content_type, body.body,
                     "den Container im DMS ablegen");
    if (!made) return core::fail(std::move(made.error()));
    return {};
  }

  CmisOptions options_;
  web::HttpFetch fetch_;
  std::string authorization_;
};

std::string normalized_folder(std::string path) {
  while (path.size() > 1 && path.ends_with('/')) path.pop_back();
  return path;
}

}  // namespace

core::Result<std::unique_ptr<EfileTarget>> make_cmis_target(CmisOptions options,
                                                            web::HttpFetch fetch) {
  std::optional<core::Error> error;
  auto refuse = [&error](std::string field, std::string message) {
    if (error) {
      error->and_field(std::move(field), std::move(message));
    } else {
      error = core::Error::invalid(std::move(field), std::move(message));
    }
  };
  // The password goes with every request: over https, or plain http on this machine only
  // (a simulator, a local tunnel); never as part of the address, which reaches the logs.
  const auto& url = options.repository_url;
  auto scheme_end = url.find("://");
  auto authority = scheme_end == std::string::npos
                       ? std::string()
                       : url.substr(scheme_end + 3, url.find('/', scheme_end + 3) - scheme_end - 3);
  auto host = authority.substr(
      0, authority.starts_with('[') ? authority.find(']') + 1 : authority.find(':'));
  bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  if (!url.starts_with("https://") && !(url.starts_with("http://") && loopback)) {
    refuse("repository_url",
           "Die Adresse des Repositorys muss mit https:// beginnen (http:// nur für 127.0.0.1).");
  } else if (authority.find('@') != std::string::npos || host.empty()) {
    refuse("repository_url",
           "Die Adresse des Repositorys enthält keinen Benutzer und kein Passwort; dafür gibt es "
           "eigene Angaben.");
  }
  options.folder_path = normalized_folder(std::move(options.folder_path));
  if (!options.folder_path.starts_with('/') ||
      options.folder_path.find("//") != std::string::npos) {
    refuse("folder_path", "Der Zielordner ist ein Pfad wie /Eingang/Online-Anträge.");
  }
  if (options.user.empty()) refuse("user", "Der Benutzername für das DMS fehlt.");
  if (!fetch) refuse("fetch", "Ohne HTTP-Verbindung erreicht die Plattform kein DMS.");
  if (error) return core::fail(std::move(*error));
  return std::make_unique<CmisTarget>(std::move(options), std::move(fetch));
}

}  // namespace mvsp::cases
