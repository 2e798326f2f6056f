-- The case management (Fallmanagement): the clerk's Vorgang, opened by the intake of a
-- submitted application, and the documents it keeps (in the component's own blob store).
CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  reference TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  application_id TEXT NOT NULL UNIQUE,
  online_service_id TEXT NOT NULL,
  online_service_version INTEGER NOT NULL,
  title TEXT NOT NULL,
  applicant_kind TEXT NOT NULL,
  applicant_owner_id TEXT NOT NULL,
  applicant_name TEXT NOT NULL,
  applicant_email TEXT NOT NULL,
  -- reference number and applicant's name in lower case (core::fold_case), for the search
  search_text TEXT NOT NULL,
  state TEXT NOT NULL,
  submitted_at BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  form_key TEXT NOT NULL,
  form_version INTEGER NOT NULL,
  payment_order_id TEXT NOT NULL,
  payment_status TEXT NOT NULL,
  payment_method TEXT NOT NULL,
  payment_amount_cents BIGINT NOT NULL,
  kassenzeichen TEXT NOT NULL,
  -- the answers: the applicant's PDF, forms' JSON and XML ("" for none)
  pdf_blob_id TEXT NOT NULL,
  json_blob_id TEXT NOT NULL,
  xml_blob_id TEXT NOT NULL
);
CREATE INDEX cases_arrivals ON cases (tenant_id, received_at DESC);
CREATE INDEX cases_authority ON cases (tenant_id, authority_id, received_at DESC);
CREATE INDEX cases_reference ON cases (reference);

CREATE TABLE case_documents (
  case_id TEXT NOT NULL REFERENCES cases (id),
  position INTEGER NOT NULL,
  requirement TEXT NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (case_id, position)
);
CREATE INDEX case_documents_blob ON case_documents (blob_id);
