#!/usr/bin/env python3
"""Writes reference outputs computed by Python, the way IntelMQ 3.5.0 computes them.

Run from the crate directory: python3 data/python_reference.py
- test_data/python_dumps.txt: for every event in the parser fixtures, the
  SHA-256 of json.dumps(event without __type, ensure_ascii=False,
  sort_keys=True) -- IntelMQ's Message.to_json() -- and of IntelMQ's
  Message.hash() (sorted items except time.observation, key, 0xC0, repr(value), 0xC0).
- test_data/float_repr.txt: f64 bit patterns and Python's repr().
"""
import glob
import hashlib
import json
import os
import random
import struct

# Values IntelMQ's fixtures hold in non-canonical form (see tests/intelmq_fixtures.rs).
KNOWN = {
    "2015-09-14T12:00:00+02:00": "2015-09-14T10:00:00+00:00",
    "2020-09-11T10:40:18+02:00": "2020-09-11T08:40:18+00:00",
    "2015-11-17T12:17:27.043452Z": "2015-11-17T12:17:27.043452+00:00",
}


def intelmq_hash(event):
    h = hashlib.sha256()
    for key, value in sorted(event.items()):
        if key == "time.observation":
            continue
        h.update(key.encode("utf-8"))
        h.update(b"\xc0")
        h.update(repr(value).encode("utf-8"))
        h.update(b"\xc0")
    return h.hexdigest()


def main():
    root = "test_data/intelmq-fixtures/parsers"
    out = []
    for path in sorted(glob.glob(f"{root}/*/*.json")):
        rel = os.path.relpath(path, ".")
        fixture = json.load(open(path))
        for c, case in enumerate(fixture["cases"]):
            for r, run in enumerate(case["runs"]):
                events = [(f"case {c} run {r} asserted {m}", a["expected"])
                          for m, a in enumerate(run["asserted_messages"])]
                for queue, items in sorted(run["observed_output"].items()):
                    events += [(f"case {c} run {r} observed {queue} {m}", e)
                               for m, e in enumerate(items) if e.get("__type") == "Event"]
                for what, event in events:
                    event = {k: KNOWN.get(v, v) if k == "time.observation" and isinstance(v, str) else v
                             for k, v in event.items() if k != "__type"}
                    line = json.dumps(event, ensure_ascii=False, sort_keys=True)
                    ev_hash = intelmq_hash(event)
                    out.append(f"{rel}\t{what}\t{hashlib.sha256(line.encode()).hexdigest()}\t{ev_hash}")
    with open("test_data/python_dumps.txt", "w") as f:
        f.write("# file\tevent\tsha256(json.dumps)\tIntelMQ hash()\n")
        f.write("\n".join(out) + "\n")

    rng = random.Random(20240601)
    floats = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 1.5e-5,
              123456.789, 52.0, 13.3667, -73.9857, 1e300, 5e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, 0.30000000000000004, 100.0, 1e22, 1e21, 123e-7]
    floats += [rng.uniform(-180, 180) for _ in range(100)]
    floats += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(300)]
    floats += [rng.randint(-10**6, 10**6) / 10 ** rng.randint(0, 8) for _ in range(100)]
    with open("test_data/float_repr.txt", "w") as f:
        f.write("# f64 bits (hex)\tPython repr\n")
        for x in floats:
            if x != x or x in (float("inf"), float("-inf")):
                continue
            bits = struct.unpack("<Q", struct.pack("<d", x))[0]
            f.write(f"{bits:016x}\t{x!r}\n")


main()
