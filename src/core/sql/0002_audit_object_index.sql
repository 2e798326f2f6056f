-- A person's own history is read by object.
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq);
