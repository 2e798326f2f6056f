-- The payment platform (Zahlungsverkehrsplattform): authorities' accounts, orders, their
-- journal, refunds, bank statement lines seen, daily booking files, machine clients.
CREATE TABLE payment_accounts (
  authority_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  authority_name TEXT NOT NULL,
  payee TEXT NOT NULL,
  iban TEXT NOT NULL,
  bic TEXT NOT NULL,
  budget_position TEXT NOT NULL,
  booking_account TEXT NOT NULL,
  kz_pattern TEXT NOT NULL,
  kz_check TEXT NOT NULL,
  provider TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  invoice INTEGER NOT NULL,
  invoice_days INTEGER NOT NULL,
  updated_at BIGINT NOT NULL
);

-- The running number of the Kassenzeichen per payee account (IBAN) and year: authorities
-- that share a cash office's account never get the same Kassenzeichen.
CREATE TABLE payment_sequences (
  account TEXT NOT NULL,
  year INTEGER NOT NULL,
  last BIGINT NOT NULL,
  PRIMARY KEY (account, year)
);

CREATE TABLE payment_orders (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  kassenzeichen TEXT NOT NULL,
  amount_cents BIGINT NOT NULL,
  purpose TEXT NOT NULL,
  reference TEXT NOT NULL,
  return_url TEXT NOT NULL,
  language TEXT NOT NULL,
  fee TEXT NOT NULL,
  payer TEXT NOT NULL,
  payer_name TEXT NOT NULL,
  state TEXT NOT NULL,
  method TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_transaction TEXT NOT NULL,
  provider_redirect TEXT NOT NULL,
  provider_open INTEGER NOT NULL,
  provider_reference TEXT NOT NULL,
  detail TEXT NOT NULL,
  payee TEXT NOT NULL,
  iban TEXT NOT NULL,
  bic TEXT NOT NULL,
  budget_position TEXT NOT NULL,
  booking_account TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_day TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  paid_at BIGINT,
  paid_day TEXT,
  invoice_due TEXT,
  refunded_cents BIGINT NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT NOT NULL,
  pay_token_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX payment_orders_kassenzeichen ON payment_orders (authority_id, kassenzeichen);
CREATE UNIQUE INDEX payment_orders_idempotency ON payment_orders (client_id, idempotency_key);
CREATE INDEX payment_orders_reference ON payment_orders (tenant_id, reference);
CREATE INDEX payment_orders_kz ON payment_orders (kassenzeichen);
CREATE INDEX payment_orders_day ON payment_orders (authority_id, created_day);
CREATE INDEX payment_orders_paid ON payment_orders (authority_id, paid_day);
CREATE INDEX payment_orders_open ON payment_orders (state, expires_at);
CREATE INDEX payment_orders_provider_open ON payment_orders (provider_open, updated_at);
CREATE INDEX payment_orders_transaction ON payment_orders (provider, provider_transaction);

-- Every change of an order, in order; `day` is the Europe/Berlin day of `at`.
CREATE TABLE payment_journal (
  order_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  authority_id TEXT NOT NULL,
  day TEXT NOT NULL,
  at BIGINT NOT NULL,
  event TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  amount_cents BIGINT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (order_id, seq)
);
CREATE INDEX payment_journal_day ON payment_journal (authority_id, day);

CREATE TABLE payment_refunds (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  amount_cents BIGINT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL,
  route TEXT NOT NULL,
  provider_reference TEXT NOT NULL,
  actor TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  booked_day TEXT
);
CREATE INDEX payment_refunds_order ON payment_refunds (order_id);
CREATE INDEX payment_refunds_day ON payment_refunds (booked_day);

-- Bank statement transactions already applied, so that a statement read twice changes
-- nothing twice.
CREATE TABLE payment_statement_lines (
  line_hash TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  imported_at BIGINT NOT NULL
);

-- The booking file of an authority's day, as the scheduled job wrote it.
CREATE TABLE payment_exports (
  authority_id TEXT NOT NULL,
  day TEXT NOT NULL,
  bookings INTEGER NOT NULL,
  total_cents BIGINT NOT NULL,
  csv TEXT NOT NULL,
  json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (authority_id, day)
);

CREATE TABLE payment_clients (
  client_id TEXT PRIMARY KEY,
  callback_url TEXT NOT NULL,
  callback_secret TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
