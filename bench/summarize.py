#!/usr/bin/env python3
"""Markdown tables from one bench/results/<time>/ folder (summary.tsv, startup.tsv, ingest.tsv).

A wrk row is "clean" when no foreign process took more than 5 % of the machine during it and every
answer was 2xx without socket errors; medians are over clean rows when there are any (else over all
rows, flagged)."""
import csv
import os
import statistics
import sys


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    return "NA" if v is None else f"{v:,.{digits}f}"


def main(folder):
    wrk = rows(os.path.join(folder, "summary.tsv"))
    if wrk:
        print("| label | clean/all runs | req/s median (min-max) | p50 ms | p99 ms median (min-max) | server CPU ms/req | server RSS end / peak MiB | max other CPU % | non-2xx |")
        print("|---|---|---|---|---|---|---|---|---|")
        for label in dict.fromkeys(r["label"] for r in wrk):
            all_rows = [r for r in wrk if r["label"] == label]
            clean = [r for r in all_rows if (num(r["other_cpu_pct"]) or 0) <= 5 and r["non2xx"] in ("0", "") and r["socket_errors"] in ("0", "")]
            use = clean or all_rows
            rps = [num(r["req_per_s"]) for r in use]
            p99 = [num(r["p99_ms"]) for r in use]
            flag = "" if clean else " (no clean run: all rows)"
            print(f"| {label} | {len(clean)}/{len(all_rows)}{flag} | {fmt(med(rps), 0)} ({fmt(min(v for v in rps if v is not None), 0)}-{fmt(max(v for v in rps if v is not None), 0)}) "
                  f"| {fmt(med(num(r['p50_ms']) for r in use), 2)} | {fmt(med(p99), 2)} ({fmt(min(v for v in p99 if v is not None), 2)}-{fmt(max(v for v in p99 if v is not None), 2)}) "
                  f"| {fmt(med(num(r['server_cpu_ms_per_req']) for r in use), 3)} "
                  f"| {fmt(max(num(r['server_rss_mib']) or 0 for r in all_rows), 0)} / {fmt(max(num(r['server_peak_rss_mib']) or 0 for r in all_rows), 0)} "
                  f"| {fmt(max(num(r['other_cpu_pct']) or 0 for r in all_rows))} | {sum(int(num(r['non2xx']) or 0) for r in all_rows):,} |")
        ceiling = [num(r["req_per_s"]) for r in wrk if r["label"] == "ceiling"]
        for label in ("ignis-read-one", "ignis-read-rotating"):
            ignis = [num(r["req_per_s"]) for r in wrk if r["label"] == label]
            pairs = [i / c for i, c in zip(ignis, ceiling) if i and c]
            if pairs:
                print(f"\n{label} / ceiling, per interleaved pass: " + ", ".join(f"{p:.0%}" for p in pairs) + f" (median {statistics.median(pairs):.0%})")
        print()
    startup = rows(os.path.join(folder, "startup.tsv"))
    if startup:
        print("| start-up | runs | first 200 on /fhir/metadata ms median (min-max) | idle RSS MiB median (max) |")
        print("|---|---|---|---|")
        for label in dict.fromkeys(r["label"] for r in startup if not r["label"].startswith("warmup")):
            use = [r for r in startup if r["label"] == label]
            ms = [num(r["start_to_first_200_ms"]) for r in use]
            rss = [num(r["idle_rss_mib_after_5s"]) for r in use]
            msv = [v for v in ms if v is not None]
            print(f"| {label} | {len(use)} | {fmt(med(ms), 0)} ({fmt(min(msv) if msv else None, 0)}-{fmt(max(msv) if msv else None, 0)}) | {fmt(med(rss), 0)} ({fmt(max(v for v in rss if v is not None), 0)}) |")
        print()
    ingest = rows(os.path.join(folder, "ingest.tsv"))
    if ingest:
        print("| ingest resources | clients | resources/s | seconds | errors | bundle p50 / p99 ms | server CPU ms/resource | idle RSS before / after MiB | peak RSS MiB | other CPU % |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in ingest:
            print(f"| {int(r['resources']):,} | {r['concurrency']} | {r['resources_per_s']} | {r['seconds']} | {r['errors']} | {r['bundle_p50_ms']} / {r['bundle_p99_ms']} "
                  f"| {r['server_cpu_ms_per_resource']} | {r['idle_rss_before_mib']} / {r['idle_rss_after_mib']} | {r['peak_rss_mib']} | {r['other_cpu_pct']} |")


if __name__ == "__main__":
    main(sys.argv[1])
