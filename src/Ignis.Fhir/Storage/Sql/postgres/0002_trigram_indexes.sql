-- :contains on strings and :text on tokens match anywhere in a value (LIKE '%x%'), which no btree can seek.
-- pg_trgm's GIN indexes can. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database
-- owner may create it. Where it is missing or not allowed, the schema goes on without these indexes and such
-- searches read every row of the parameter instead (correct, only slower).
DO $$
DECLARE
    trgm_schema text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%); :contains and :text searches will not use an index.', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX ix_idx_string_trgm ON idx_string USING gin (value_norm %I.gin_trgm_ops)', trgm_schema);
        EXECUTE format('CREATE INDEX ix_idx_token_text_trgm ON idx_token USING gin (text %I.gin_trgm_ops)', trgm_schema);
    END IF;
END $$;
