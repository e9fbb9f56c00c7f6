-- Ignis FHIR store, schema version 1 (SQLite).
-- Times are UTC DateTime ticks (100 ns since 0001-01-01) in INTEGER columns.
-- Index rows exist only for the current, non-deleted version of a resource.

CREATE TABLE resources (
    res_key      INTEGER PRIMARY KEY,          -- surrogate key, also the default search order
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    body         TEXT                           -- JSON of the current version; NULL when deleted
);
CREATE UNIQUE INDEX ux_resources_type_id ON resources(type, id);
CREATE INDEX ix_resources_type_updated ON resources(type, last_updated);
-- (type, deleted, res_key): a type's current resources in res_key order, the default search order.
CREATE INDEX ix_resources_type_key ON resources(type, deleted);

CREATE TABLE history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT, -- global order of every write
    res_key      INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    method       TEXT    NOT NULL,             -- POST, PUT, PATCH or DELETE
    body         TEXT                          -- NULL for a delete
);
CREATE UNIQUE INDEX ux_history_key_version ON history(res_key, version);
CREATE INDEX ix_history_type_updated ON history(type, last_updated);
CREATE INDEX ix_history_updated ON history(last_updated);

-- string: value_norm is lower-cased with accents removed (prefix and :contains), value is exact.
CREATE TABLE idx_string (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    value_norm TEXT NOT NULL,
    value    TEXT NOT NULL
);
CREATE INDEX ix_idx_string ON idx_string(param_id, value_norm, res_key);
CREATE INDEX ix_idx_string_key ON idx_string(res_key);

-- token: system may be NULL (no system); text is the normalized display/text for :text;
-- type_system/type_code carry Identifier.type for :of-type.
CREATE TABLE idx_token (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    system   TEXT,
    code     TEXT,
    text     TEXT,
    type_system TEXT,
    type_code   TEXT
);
CREATE INDEX ix_idx_token_code ON idx_token(param_id, code, system, res_key);
CREATE INDEX ix_idx_token_key ON idx_token(res_key, param_id);

-- date: the inclusive range [lo, hi] the value covers at its precision.
CREATE TABLE idx_date (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    lo INTEGER NOT NULL,
    hi INTEGER NOT NULL
);
CREATE INDEX ix_idx_date ON idx_date(param_id, lo, hi, res_key);
CREATE INDEX ix_idx_date_key ON idx_date(res_key, param_id);

-- number: the range implied by the value's precision (100 -> [99.5, 100.5]).
CREATE TABLE idx_number (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    lo REAL NOT NULL,
    hi REAL NOT NULL
);
CREATE INDEX ix_idx_number ON idx_number(param_id, lo, hi, res_key);
CREATE INDEX ix_idx_number_key ON idx_number(res_key);

CREATE TABLE idx_quantity (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    system TEXT,
    code   TEXT,                               -- Quantity.code, or Quantity.unit when there is no code
    lo REAL NOT NULL,
    hi REAL NOT NULL
);
CREATE INDEX ix_idx_quantity ON idx_quantity(param_id, code, lo, res_key);
CREATE INDEX ix_idx_quantity_key ON idx_quantity(res_key);

-- reference: a local reference has target_type + target_id; an absolute or canonical one has url
-- (version in url_version for canonical|version).
CREATE TABLE idx_reference (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    url         TEXT,
    url_version TEXT
);
CREATE INDEX ix_idx_reference_target ON idx_reference(param_id, target_id, target_type, res_key);
CREATE INDEX ix_idx_reference_url ON idx_reference(param_id, url);
CREATE INDEX ix_idx_reference_key ON idx_reference(res_key, param_id);
CREATE INDEX ix_idx_reference_rev ON idx_reference(target_type, target_id);

CREATE TABLE idx_uri (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    uri TEXT NOT NULL
);
CREATE INDEX ix_idx_uri ON idx_uri(param_id, uri, res_key);
CREATE INDEX ix_idx_uri_key ON idx_uri(res_key);

-- composite: one row per combination of component values taken from the same element.
-- Each component i (1..3) uses the columns its type needs:
--   token: c{i}_system, c{i}_code; string/uri/reference: c{i}_code (normalized string / uri / Type/id);
--   number, quantity, date: c{i}_lo, c{i}_hi (date as ticks), quantity also c{i}_system, c{i}_code.
CREATE TABLE idx_composite (
    res_key  INTEGER NOT NULL,
    param_id INTEGER NOT NULL,
    c1_system TEXT, c1_code TEXT, c1_lo REAL, c1_hi REAL,
    c2_system TEXT, c2_code TEXT, c2_lo REAL, c2_hi REAL,
    c3_system TEXT, c3_code TEXT, c3_lo REAL, c3_hi REAL
);
CREATE INDEX ix_idx_composite ON idx_composite(param_id, c1_code, res_key);
CREATE INDEX ix_idx_composite_key ON idx_composite(res_key);
