#pragma once
// Private to catalog: the JSON form of catalog entries, shared by storage, import/export
// and the API. Reading collects every problem with its path ("services[3].leikaKey").

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/error.hpp>
#include <string>

namespace mvsp::catalog::json {

Poco::JSON::Object to_json(const Service& s);
Poco::JSON::Object to_json(const Authority& a);
Poco::JSON::Object to_json(const Responsibility& r);
Poco::JSON::Object to_json(const Specialisation& s);
Poco::JSON::Object to_json(const Category& c);
Poco::JSON::Object to_json(const OnlineServiceConfig& c);
Poco::JSON::Object to_json(const OnlineService& s);
Poco::JSON::Object to_json(const Region& r);

// Each reader checks the entry's rules; problems are added to `error` under `path`.
Service service_from(const Poco::JSON::Object& o, const std::string& path, core::Error& error);
Authority authority_from(const Poco::JSON::Object& o, const std::string& path, core::Error& error);
// The rules for an authority's e-mail address and phone number, for what is put in (not
// for stored rows that older versions took).
void check_contacts(const Authority& a, const std::string& path, core::Error& error);
Responsibility responsibility_from(const Poco::JSON::Object& o, const std::string& path,
                                   core::Error& error);
Specialisation specialisation_from(const Poco::JSON::Object& o, const std::string& path,
                                   core::Error& error);
Category category_from(const Poco::JSON::Object& o, const std::string& path, core::Error& error);
OnlineServiceConfig config_from(const Poco::JSON::Object& o, const std::string& path,
                                core::Error& error);
OnlineService online_service_from(const Poco::JSON::Object& o, const std::string& path,
                                  core::Error& error);

std::string stringify(const Poco::JSON::Object& o);
// nullptr when `text` is not a JSON object.
Poco::JSON::Object::Ptr parse(std::string_view text);

}  // namespace mvsp::catalog::json
