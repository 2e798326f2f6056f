// The CMIS SIMULATOR: a small HTTP server on loopback speaking the part of the CMIS 1.1
// browser binding that the e-file adapter uses.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <mvsp/cases/cmis_simulator.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/small_server.hpp>
#include <sstream>

namespace mvsp::cases {
namespace {

struct Stored {
  std::string id;
  std::string name;
  std::string parent;  // the parent's path; "" for the root
  std::string base_type;
  std::string content_type;
  std::string content;
  core::TimePoint created;
};

std::string stringify(const Poco::JSON::Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

// A browser binding exception: {"exception": "objectNotFound", "message": "…"}.
std::pair<int, std::string> exception(int status, const std::string& name,
                                      const std::string& message) {
  Poco::JSON::Object o;
  o.set("exception", name);
  o.set("message", "SIMULATOR: " + message);
  return {status, stringify(o)};
}

std::string child_path(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

}  // namespace

struct CmisSimulator::Impl {
  Impl(CmisSimulatorOptions o, const web::Ports& ports)
      : options(std::move(o)), clock(ports.clock), ids(ports.ids) {
    objects["/"] = {"root", "", "", "cmis:folder", "", "", clock.now()};
  }

  CmisSimulatorOptions options;
  const core::Clock& clock;
  core::IdGenerator& ids;
  std::unique_ptr<web::SmallServer> server;

  mutable std::mutex mutex;
  std::map<std::string, Stored> objects;  // by path
  Mode mode = Mode::normal;
  std::size_t folders_created = 0;
  std::size_t documents_created = 0;
  std::size_t requests = 0;

  std::string base_url() const {
    return fmt::format("http://{}:{}", options.host, server ? server->port() : 0);
  }
  std::string repository_url() const { return base_url() + "/browser/" + options.repository_id; }
  std::string root_url() const { return repository_url() + "/root"; }

  std::string repository_info() const {
    Poco::JSON::Object info;
    info.set("repositoryId", options.repository_id);
    info.set("repositoryName", "CMIS-SIMULATOR");
    info.set("repositoryDescription", "SIMULATOR – kein echtes DMS");
    info.set("vendorName", "mvsp");
    info.set("productName", "mvsp CMIS-Simulator");
    info.set("cmisVersionSupported", "1.1");
    info.set("rootFolderId", "root");
    info.set("repositoryUrl", repository_url());
    info.set("rootFolderUrl", root_url());
    Poco::JSON::Object all;
    all.set(options.repository_id, info);
    return stringify(all);
  }

  Poco::JSON::Object object_json(const std::string& path, const Stored& s, bool succinct) const {
    std::vector<std::pair<std::string, Poco::Dynamic::Var>> props{
        {"cmis:objectId", s.id},
        {"cmis:name", s.name},
        {"cmis:baseTypeId", s.base_type},
        {"cmis:objectTypeId", s.base_type},
        {"cmis:creationDate", core::to_millis(s.created)},
    };
    if (s.base_type == "cmis:folder") {
      props.emplace_back("cmis:path", path);
      if (path != "/") props.emplace_back("cmis:parentId", objects.at(s.parent).id);
    } else {
      props.emplace_back("cmis:contentStreamLength", static_cast<Poco::Int64>(s.content.size()));
      props.emplace_back("cmis:contentStreamMimeType", s.content_type);
      props.emplace_back("cmis:contentStreamFileName", s.name);
    }
    Poco::JSON::Object values;
    for (const auto& [id, value] : props) {
      if (succinct) {
        values.set(id, value);
      } else {
        Poco::JSON::Object p;
        p.set("id", id);
        p.set("value", value);
        values.set(id, p);
      }
    }
    Poco::JSON::Object o;
    o.set(succinct ? "succinctProperties" : "properties", values);
    return o;
  }

  std::pair<int, std::string> get_object(const std::string& path, bool succinct) const {
    std::lock_guard lock(mutex);
    auto it = objects.find(path);
    if (it == objects.end()) return exception(404, "objectNotFound", "kein Objekt unter " + path);
    return {200, stringify(object_json(path, it->second, succinct))};
  }

  std::pair<int, std::string> children(const std::string& path, const web::Request& req,
                                       bool succinct) const {
    auto number = [&req](const char* name, int fallback) {
      auto v = req.query_param(name);
      try {
        return v ? std::stoi(*v) : fallback;
      } catch (const std::exception&) {
        return fallback;
      }
    };
    int skip = std::max(0, number("skipCount", 0));
    int max = std::clamp(number("maxItems", options.page_size), 1, options.page_size);
    std::lock_guard lock(mutex);
    auto it = objects.find(path);
    if (it == objects.end()) return exception(404, "objectNotFound", "kein Ordner unter " + path);
    if (it->second.base_type != "cmis:folder") {
      return exception(400, "invalidArgument", path + " ist kein Ordner");
    }
    std::vector<std::string> paths;
    for (const auto& [p, s] : objects) {
      if (s.parent == path && p != "/") paths.push_back(p);
    }
    Poco::JSON::Array list;
    for (int i = skip; i < static_cast<int>(paths.size()) && i < skip + max; ++i) {
      Poco::JSON::Object entry;
      entry.set("object", object_json(paths[static_cast<std::size_t>(i)],
                                      objects.at(paths[static_cast<std::size_t>(i)]), succinct));
      list.add(entry);
    }
    Poco::JSON::Object o;
    o.set("objects", list);
    o.set("hasMoreItems", skip + max < static_cast<int>(paths.size()));
    o.set("numItems", static_cast<int>(paths.size()));
    return {200, stringify(o)};
  }

  // createFolder and createDocument: the form's properties as the browser binding sends
  // them (propertyId[n], propertyValue[n]), urlencoded or multipart.
  std::pair<int, std::string> post(const std::string& path, const web::Request& req) {
    std::map<std::string, std::string> fields;
    const web::Part* content = nullptr;
    std::vector<web::Part> parts;
    if (req.header("content-type").value_or("").starts_with("multipart/form-data")) {
      auto parsed = web::parse_multipart(req);
      if (!parsed) return exception(400, "invalidArgument", parsed.error().message);
      parts = std::move(*parsed);
      for (const auto& p : parts) {
        if (!p.filename.empty() || p.name == "content") {
          content = &p;
        } else {
          fields[p.name] = p.body;
        }
      }
    } else {
      for (auto& [k, v] : web::parse_urlencoded(req.body)) fields[k] = v;
    }
    std::map<std::string, std::string> properties;
    for (int i = 0; i < 32; ++i) {
      auto id = fields.find(fmt::format("propertyId[{}]", i));
      if (id == fields.end()) break;
      properties[id->second] = fields[fmt::format("propertyValue[{}]", i)];
    }
    auto action = fields["cmisaction"];
    bool succinct = fields["succinct"] == "true";
    auto name = properties["cmis:name"];
    auto type = properties["cmis:objectTypeId"];
    if (action != "createFolder" && action != "createDocument") {
      return exception(400, "notSupported", "cmisaction " + action + " kann der Simulator nicht");
    }
    bool folder = action == "createFolder";
    if (type != (folder ? "cmis:folder" : "cmis:document")) {
      return exception(400, "constraint",
                       "cmis:objectTypeId " + type + " passt nicht zu " + action);
    }
    if (name.empty() || name.find('/') != std::string::npos) {
      return exception(400, "nameConstraintViolation", "cmis:name fehlt oder enthält /");
    }
    if (!folder && !content) return exception(400, "constraint", "der Inhalt fehlt");

    std::lock_guard lock(mutex);
    auto parent = objects.find(path);
    if (parent == objects.end())
      return exception(404, "objectNotFound", "kein Ordner unter " + path);
    if (parent->second.base_type != "cmis:folder") {
      return exception(400, "invalidArgument", path + " ist kein Ordner");
    }
    auto target = child_path(path, name);
    if (objects.contains(target)) {
      return exception(409, "nameConstraintViolation", target + " gibt es schon");
    }
    Stored s{ids.key(), name, path, type, "", "", clock.now()};
    if (!folder) {
      s.content_type = content->content_type;
      s.content = content->body;
      ++documents_created;
    } else {
      ++folders_created;
    }
    auto& stored = objects[target] = std::move(s);
    return {201, stringify(object_json(target, stored, succinct))};
  }

  std::string overview() const {
    std::lock_guard lock(mutex);
    std::string rows;
    for (const auto& [path, s] : objects) {
      if (path == "/") continue;
      rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                          core::escape_markup(path),
                          s.base_type == "cmis:folder" ? "Ordner" : "Dokument",
                          s.base_type == "cmis:folder" ? "" : std::to_string(s.content.size()),
                          core::format_berlin(s.created));
    }
    return fmt::format(
        "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>CMIS-SIMULATOR – kein echtes DMS</title></head><body><header><p><strong>"
        "SIMULATOR – kein echtes DMS.</strong> Dieser Dienst ahmt ein CMIS-Repository (Browser "
        "Binding) für Entwicklung und Tests nach und hält alles nur im Speicher.</p></header>"
        "<main><h1>Repository {}</h1><table><thead><tr><th scope=\"col\">Pfad</th>"
        "<th scope=\"col\">Art</th><th scope=\"col\">Bytes</th><th scope=\"col\">Angelegt</th>"
        "</tr></thead><tbody>{}</tbody></table></main></body></html>",
        core::escape_markup(options.repository_id), rows);
  }

  bool authorized(const web::Request& req) const {
    auto expected = "Basic " + core::crypto::base64(options.user + ":" + options.password);
    return core::crypto::equal_constant_time(req.header("authorization").value_or(""), expected);
  }

  web::Response answer(const web::Request& req) {
    Mode m;
    {
      std::lock_guard lock(mutex);
      ++requests;
      m = mode;
    }
    std::pair<int, std::string> result;
    std::string type = "application/json";
    auto repository = "/browser/" + options.repository_id;
    auto root = repository + "/root";
    bool post_request = req.method == web::Method::post;
    if (m == Mode::unavailable) {
      result = exception(503, "runtime", "das Repository ist nicht erreichbar");
    } else if (!authorized(req)) {
      result = exception(401, "permissionDenied", "Benutzername oder Passwort falsch");
    } else if (m == Mode::read_only && post_request) {
      result = exception(403, "permissionDenied", "der Benutzer darf hier nichts anlegen");
    } else if (!post_request && req.path == "/") {
      result = {200, overview()};
      type = "text/html; charset=utf-8";
    } else if (!post_request && (req.path == "/browser" || req.path == repository)) {
      result = {200, repository_info()};
    } else if (req.path == root || req.path.starts_with(root + "/")) {
      auto path = req.path.substr(root.size());
      while (path.size() > 1 && path.ends_with('/')) path.pop_back();
      if (path.empty()) path = "/";
      if (post_request) {
        result = post(path, req);
      } else {
        auto selector = req.query_param("cmisselector").value_or("object");
        bool succinct = req.query_param("succinct").value_or("") == "true";
        if (selector == "object") {
          result = get_object(path, succinct);
        } else if (selector == "children") {
          result = children(path, req, succinct);
        } else {
          result = exception(400, "notSupported", "cmisselector " + selector);
        }
      }
    } else {
      result = exception(404, "objectNotFound", req.path);
    }
    web::Response res;
    res.status = result.first;
    res.body = std::move(result.second);
    res.set_header("Content-Type", type);
    if (result.first == 401) res.set_header("WWW-Authenticate", "Basic realm=\"CMIS-SIMULATOR\"");
    return res;
  }
};

CmisSimulator::CmisSimulator(CmisSimulatorOptions options, const web::Ports& ports)
    : impl_(std::make_unique<Impl>(std::move(options), ports)) {}

CmisSimulator::~CmisSimulator() {
  stop();
}

void CmisSimulator::start() {
  impl_->server = std::make_unique<web::SmallServer>(
      impl_->options.host, impl_->options.port,
      [impl = impl_.get()](const web::Request& req) { return impl->answer(req); },
      64 * 1024 * 1024);
  impl_->server->start();
}

void CmisSimulator::stop() {
  if (impl_->server) impl_->server->stop();
}

int CmisSimulator::port() const {
  return impl_->server ? impl_->server->port() : 0;
}
std::string CmisSimulator::base_url() const {
  return impl_->base_url();
}
std::string CmisSimulator::repository_url() const {
  return impl_->repository_url();
}
void CmisSimulator::set_mode(Mode mode) {
  std::lock_guard lock(impl_->mutex);
  impl_->mode = mode;
}

void CmisSimulator::add_folder(const std::string& path) {
  std::lock_guard lock(impl_->mutex);
  std::string current = "/";
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) {
      auto name = path.substr(start, end - start);
      auto next = child_path(current, name);
      if (!impl_->objects.contains(next)) {
        impl_->objects[next] = {impl_->ids.key(),  name, current, "cmis:folder", "", "",
                                impl_->clock.now()};
      }
      current = next;
    }
    start = end + 1;
  }
}

std::vector<CmisSimulatorObject> CmisSimulator::objects() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<CmisSimulatorObject> out;
  for (const auto& [path, s] : impl_->objects) {
    if (path == "/") continue;
    out.push_back({s.id, path, s.name, s.base_type, s.content_type, s.content});
  }
  return out;
}

std::optional<CmisSimulatorObject> CmisSimulator::object(const std::string& path) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->objects.find(path);
  if (it == impl_->objects.end()) return std::nullopt;
  const auto& s = it->second;
  return CmisSimulatorObject{s.id, path, s.name, s.base_type, s.content_type, s.content};
}

std::size_t CmisSimulator::folders_created() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->folders_created;
}
std::size_t CmisSimulator::documents_created() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->documents_created;
}
std::size_t CmisSimulator::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

}  // namespace mvsp::cases
