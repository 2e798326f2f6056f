-- Notices accepted per client and UTC day, for the daily quota: one row is read and
-- counted up in the accepting transaction, instead of counting the day's notices on every
-- request (which grew with the day's volume).
CREATE TABLE delivery_client_days (
  client_id TEXT NOT NULL,
  day BIGINT NOT NULL,
  accepted BIGINT NOT NULL,
  PRIMARY KEY (client_id, day)
);
INSERT INTO delivery_client_days (client_id, day, accepted)
  SELECT client_id, accepted_at / 86400000, COUNT(*) FROM delivery_notices
    GROUP BY client_id, accepted_at / 86400000;
