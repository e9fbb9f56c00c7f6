#!/usr/bin/env python3
"""What a token search-index row costs SQLite, by index layout (docs/benchmarks.md, session 10).

Inserts 7 idx_token-shaped rows per resource, 64 resources per transaction (WAL, synchronous=NORMAL, 64 MiB cache),
into a table preloaded with 200,000 resources, and prints microseconds per resource for each layout named:
  none     the table alone (Python's own cost per row is in every figure)
  key      + (res_key, param_id)
  code     + (param_id, code, system, res_key)
  str      both indexes: the FHIR store's layout
  hash     (res_key, param_id) and (hash of system|code, res_key) instead of the strings
  wor      WITHOUT ROWID clustered on (res_key, param_id, n) and (param_id, code, system, res_key)
usage: python3 bench/sqlite-index-cost.py str hash wor str hash wor
"""
import os
import sqlite3
import sys
import tempfile
import time

SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
PARAMS = [100 + i * 37 for i in range(7)]


def run(layout, preload=200_000, measured=60_000):
    path = os.path.join(tempfile.mkdtemp(prefix="ignis-idx-"), "idx.db")
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("pragma journal_mode=wal")
    c.execute("pragma synchronous=normal")
    c.execute("pragma cache_size=-65536")
    if layout == "wor":
        c.execute("create table t (res_key integer not null, param_id integer not null, n integer not null, system text, code text,"
                  " text text, type_system text, type_code text, primary key (res_key, param_id, n)) without rowid")
        c.execute("create index ix_code on t(param_id, code, system, res_key)")
        sql = "insert into t values (?,?,?,?,?,?,?,?)"
        row = lambda k, i: (k, PARAMS[i], i, SYSTEM, "code%d" % i, None, None, None)
    else:
        c.execute("create table t (res_key integer not null, param_id integer not null, system text, code text, text text,"
                  " type_system text, type_code text, h integer)")
        if layout in ("code", "str"):
            c.execute("create index ix_code on t(param_id, code, system, res_key)")
        if layout == "hash":
            c.execute("create index ix_code on t(h, res_key)")
        if layout in ("key", "str", "hash"):
            c.execute("create index ix_key on t(res_key, param_id)")
        sql = "insert into t values (?,?,?,?,?,?,?,?)"
        row = lambda k, i: (k, PARAMS[i], SYSTEM, "code%d" % i, None, None, None, hash((SYSTEM, i)))

    def write(start, count):
        c.execute("begin")
        for k in range(start, start + count):
            c.executemany(sql, [row(k, i) for i in range(7)])
        c.execute("commit")

    for s in range(0, preload, 64):
        write(s, 64)
    t = time.perf_counter()
    for s in range(preload, preload + measured, 64):
        write(s, 64)
    print(f"{layout:5} {(time.perf_counter() - t) * 1e6 / measured:6.1f} us per resource (7 rows)", flush=True)
    c.close()


if __name__ == "__main__":
    for name in sys.argv[1:] or ["none", "key", "code", "str", "hash", "wor"]:
        run(name)
