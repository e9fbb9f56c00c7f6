-- Instance history (GET Patient/1/_history) walks one resource's versions newest first.
CREATE INDEX ix_history_type_id_seq ON history(type, id, seq);
