-- Ignis FHIR store, schema version 1 (PostgreSQL).
-- The same tables and columns as the SQLite schema, so one search compiler serves both (see docs/search.md):
-- times are UTC DateTime ticks (100 ns since 0001-01-01) in bigint columns, deleted is 0/1.
-- Text compares byte-wise (COLLATE "C"): prefix searches are index range scans and sort orders match SQLite's.
-- Index rows exist only for the current, non-deleted version of a resource.

CREATE TABLE resources (
    res_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- surrogate key, also the default search order
    type         text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    version      integer  NOT NULL,
    last_updated bigint   NOT NULL,
    deleted      smallint NOT NULL DEFAULT 0,
    body         json                          -- the current version exactly as written (json keeps the text); NULL when deleted
);
-- One row per type/id: two nodes creating the same id at once cannot both succeed (the loser runs again as an update).
CREATE UNIQUE INDEX ux_resources_type_id ON resources (type, id);
CREATE INDEX ix_resources_type_updated ON resources (type, last_updated);
-- A type's current resources in res_key order, the default search order.
CREATE INDEX ix_resources_type_key ON resources (type, deleted, res_key);

CREATE TABLE history (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- global order of every write
    res_key      bigint   NOT NULL,
    type         text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    version      integer  NOT NULL,
    last_updated bigint   NOT NULL,
    method       text     NOT NULL,            -- POST, PUT, PATCH or DELETE
    body         json,                         -- NULL for a delete
    -- A version is written once: the backstop against a lost update whatever the locking does.
    CONSTRAINT ux_history_key_version UNIQUE (res_key, version)
);
CREATE INDEX ix_history_type_updated ON history (type, last_updated);
CREATE INDEX ix_history_updated ON history (last_updated);
CREATE INDEX ix_history_type_id_seq ON history (type, id, seq);

-- string: value_norm is lower-cased with accents removed (prefix and :contains), value is exact.
CREATE TABLE idx_string (
    res_key    bigint  NOT NULL,
    param_id   integer NOT NULL,
    value_norm text COLLATE "C" NOT NULL,
    value      text COLLATE "C" NOT NULL
);
CREATE INDEX ix_idx_string ON idx_string (param_id, value_norm, res_key);
CREATE INDEX ix_idx_string_key ON idx_string (res_key);

-- token: system may be NULL (no system); text is the normalized display/text for :text;
-- type_system/type_code carry Identifier.type for :of-type.
CREATE TABLE idx_token (
    res_key     bigint  NOT NULL,
    param_id    integer NOT NULL,
    system      text COLLATE "C",
    code        text COLLATE "C",
    text        text COLLATE "C",
    type_system text COLLATE "C",
    type_code   text COLLATE "C"
);
CREATE INDEX ix_idx_token_code ON idx_token (param_id, code, system, res_key);
CREATE INDEX ix_idx_token_key ON idx_token (res_key, param_id);

-- date: the inclusive range [lo, hi] the value covers at its precision. Two orders, so both "starts before"
-- (lt, le, eb) and "ends after" (gt, ge, sa) are index range scans.
CREATE TABLE idx_date (
    res_key  bigint  NOT NULL,
    param_id integer NOT NULL,
    lo bigint NOT NULL,
    hi bigint NOT NULL
);
CREATE INDEX ix_idx_date ON idx_date (param_id, lo, hi, res_key);
CREATE INDEX ix_idx_date_hi ON idx_date (param_id, hi, lo, res_key);
CREATE INDEX ix_idx_date_key ON idx_date (res_key, param_id);

-- number: the range implied by the value's precision (100 -> [99.5, 100.5]).
CREATE TABLE idx_number (
    res_key  bigint  NOT NULL,
    param_id integer NOT NULL,
    lo double precision NOT NULL,
    hi double precision NOT NULL
);
CREATE INDEX ix_idx_number ON idx_number (param_id, lo, hi, res_key);
CREATE INDEX ix_idx_number_key ON idx_number (res_key);

CREATE TABLE idx_quantity (
    res_key  bigint  NOT NULL,
    param_id integer NOT NULL,
    system text COLLATE "C",
    code   text COLLATE "C",                   -- Quantity.code, or Quantity.unit when there is no code
    lo double precision NOT NULL,
    hi double precision NOT NULL
);
CREATE INDEX ix_idx_quantity ON idx_quantity (param_id, code, lo, res_key);
CREATE INDEX ix_idx_quantity_key ON idx_quantity (res_key);

-- reference: a local reference has target_type + target_id; an absolute or canonical one has url
-- (version in url_version for canonical|version).
CREATE TABLE idx_reference (
    res_key     bigint  NOT NULL,
    param_id    integer NOT NULL,
    target_type text COLLATE "C",
    target_id   text COLLATE "C",
    url         text COLLATE "C",
    url_version text COLLATE "C"
);
CREATE INDEX ix_idx_reference_target ON idx_reference (param_id, target_id, target_type, res_key);
CREATE INDEX ix_idx_reference_url ON idx_reference (param_id, url);
CREATE INDEX ix_idx_reference_key ON idx_reference (res_key, param_id);
-- _revinclude, _has and chains walk from a target to the references to it.
CREATE INDEX ix_idx_reference_rev ON idx_reference (target_type, target_id);

CREATE TABLE idx_uri (
    res_key  bigint  NOT NULL,
    param_id integer NOT NULL,
    uri text COLLATE "C" NOT NULL
);
CREATE INDEX ix_idx_uri ON idx_uri (param_id, uri, res_key);
CREATE INDEX ix_idx_uri_key ON idx_uri (res_key);

-- composite: one row per combination of component values taken from the same element (see the SQLite schema).
CREATE TABLE idx_composite (
    res_key  bigint  NOT NULL,
    param_id integer NOT NULL,
    c1_system text COLLATE "C", c1_code text COLLATE "C", c1_lo double precision, c1_hi double precision,
    c2_system text COLLATE "C", c2_code text COLLATE "C", c2_lo double precision, c2_hi double precision,
    c3_system text COLLATE "C", c3_code text COLLATE "C", c3_lo double precision, c3_hi double precision
);
CREATE INDEX ix_idx_composite ON idx_composite (param_id, c1_code, res_key);
CREATE INDEX ix_idx_composite_key ON idx_composite (res_key);
