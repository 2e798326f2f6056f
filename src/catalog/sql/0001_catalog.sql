-- The catalog: regions, authorities, services with their text modules, specialisations,
-- responsibilities, categories, online services with versions, adoptions and notices.
-- Structured details are JSON in `data`, so that import and export keep every field.
CREATE TABLE catalog_regions (
  region_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  parent TEXT NOT NULL,
  search_name TEXT NOT NULL
);
CREATE INDEX catalog_regions_parent ON catalog_regions (parent);
CREATE INDEX catalog_regions_search ON catalog_regions (search_name);

CREATE TABLE catalog_authorities (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX catalog_authorities_tenant ON catalog_authorities (tenant_id);

CREATE TABLE catalog_services (
  leika_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE catalog_specialisations (
  leika_key TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  module TEXT NOT NULL,
  text TEXT NOT NULL,
  replace_text INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (leika_key, authority_id, module)
);

CREATE TABLE catalog_responsibilities (
  leika_key TEXT NOT NULL,
  region TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  PRIMARY KEY (leika_key, region)
);
CREATE INDEX catalog_responsibilities_authority ON catalog_responsibilities (authority_id);

CREATE TABLE catalog_categories (
  kind TEXT NOT NULL,
  category_key TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (kind, category_key)
);

CREATE TABLE catalog_online_services (
  id TEXT PRIMARY KEY,
  leika_key TEXT NOT NULL,
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX catalog_online_services_leika ON catalog_online_services (leika_key);

-- Every version that reached production, as it was.
CREATE TABLE catalog_online_service_versions (
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  PRIMARY KEY (id, version)
);

CREATE TABLE catalog_adoptions (
  online_service_id TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  adopted_at BIGINT NOT NULL,
  PRIMARY KEY (online_service_id, authority_id)
);
CREATE INDEX catalog_adoptions_authority ON catalog_adoptions (authority_id);

CREATE TABLE catalog_notices (
  id TEXT PRIMARY KEY,
  authority_id TEXT NOT NULL,
  online_service_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  read_at BIGINT
);
CREATE INDEX catalog_notices_authority ON catalog_notices (authority_id);
