-- Date searches with gt/ge ask for values whose range ends after a point (hi > x): the (param_id, lo, hi)
-- index cannot seek that, so Observation?code=...&date=ge<recent> walked the whole code set. This index makes
-- such sets seekable and countable by the planner's probe.
CREATE INDEX ix_idx_date_hi ON idx_date(param_id, hi, lo, res_key);
