-- Schema version 4: fewer B-tree insertions per write (ingest), the same search plans.
-- ix_idx_reference_rev (target_type, target_id): no query used it (every reference query names its parameter and uses
-- ix_idx_reference_target), and each reference row inserted into it at a random place.
DROP INDEX ix_idx_reference_rev;
-- ix_idx_reference_url: only absolute and canonical references have a url (local ones, nearly all, hold NULL), and a
-- query only seeks it with url = ... (which implies url IS NOT NULL), so the index keeps the rows that have one.
DROP INDEX ix_idx_reference_url;
CREATE INDEX ix_idx_reference_url ON idx_reference(param_id, url) WHERE url IS NOT NULL;
-- Instance history finds the resource's res_key through ux_resources_type_id and walks ux_history_key_version
-- (a resource's versions are in seq order), so history no longer needs a (type, id, seq) index of its own.
DROP INDEX ix_history_type_id_seq;
