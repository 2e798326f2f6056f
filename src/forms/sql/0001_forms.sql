-- Form definitions (mvsp-form/1) with versions. A published version never changes; a
-- form has at most one draft, the version after its latest published one.
CREATE TABLE forms_versions (
  form_key TEXT NOT NULL,
  version INTEGER NOT NULL,
  owner TEXT NOT NULL,          -- authority id; '' for the state
  state TEXT NOT NULL,          -- draft | published
  title TEXT NOT NULL,
  definition TEXT NOT NULL,     -- the JSON, as checked when saved
  changed_at BIGINT NOT NULL,
  changed_by TEXT NOT NULL,     -- actor as in the audit log
  published_at BIGINT,
  PRIMARY KEY (form_key, version)
);
CREATE INDEX forms_versions_state ON forms_versions (form_key, state);
