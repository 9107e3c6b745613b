#!/usr/bin/env python3
"""TAXII 2.1 client loops for bench/taxii.sh (requests.Session: one keep-alive connection).

  client.py load URL USER PASSWORD BUNDLE [BATCH]     POST the bundle's objects in envelopes
  client.py first URL USER PASSWORD N                 N times GET ?limit=100 (the first page)
  client.py walk URL USER PASSWORD                    follow next through the whole collection
  client.py deep URL USER PASSWORD N                  N times GET the page after a position deep
                                                      in the collection (next token, or
                                                      added_after when the server drops tokens)
URL is the collection's objects endpoint (…/collections/ID/objects/). Prints one JSON line with
p50, p95 and max latency in milliseconds, measured around each request.
"""
import json
import sys
import time

import requests

TAXII = "application/taxii+json;version=2.1"
mode, url, user, password = sys.argv[1:5]
session = requests.Session()
session.auth = (user, password)
session.headers.update({"Accept": TAXII})


def timed(params):
    start = time.perf_counter()
    response = session.get(url, params=params)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed, response


def summary(name, latencies, **extra):
    latencies = sorted(latencies)
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)
    print(json.dumps(dict(mode=name, requests=len(latencies), p50_ms=pick(0.5), p95_ms=pick(0.95),
                          max_ms=round(latencies[-1] * 1000, 2), **extra)))


if mode == "load":
    bundle = json.load(open(sys.argv[5]))
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    objects = bundle["objects"]
    start, stored = time.perf_counter(), 0
    for at in range(0, len(objects), batch):
        body = json.dumps({"objects": objects[at:at + batch]})
        response = session.post(url, data=body, headers={"Content-Type": TAXII})
        response.raise_for_status()
        stored += response.json()["success_count"]
    seconds = time.perf_counter() - start
    print(json.dumps(dict(mode="load", objects=stored, seconds=round(seconds, 2),
                          objects_per_s=round(stored / seconds, 1))))
elif mode == "first":
    n = int(sys.argv[5])
    latencies = []
    for _ in range(n):
        elapsed, response = timed({"limit": 100})
        assert len(response.json()["objects"]) == 100
        latencies.append(elapsed)
    summary("first_page", latencies)
elif mode == "walk":
    latencies, objects, params = [], 0, {"limit": 100}
    while True:
        elapsed, response = timed(params)
        envelope = response.json()
        latencies.append(elapsed)
        objects += len(envelope.get("objects", []))
        if not envelope.get("more"):
            break
        params = {"limit": 100, "next": envelope["next"]}
    summary("walk_pages", latencies, objects=objects)
elif mode == "deep":
    # A position 90 % into the collection: walk there once through the manifest, then ask for
    # the page after it again and again.
    n = int(sys.argv[5])
    manifest_url = url.rstrip("/").rsplit("/", 1)[0] + "/manifest/"
    params, records = {"limit": 100}, []
    while True:
        response = session.get(manifest_url, params=params)
        response.raise_for_status()
        envelope = response.json()
        records.extend(envelope.get("objects", []))
        if not envelope.get("more"):
            break
        params = {"limit": 100, "next": envelope["next"]}
    position = records[int(len(records) * 0.9)]["date_added"]
    latencies = []
    for _ in range(n):
        elapsed, response = timed({"limit": 100, "added_after": position})
        assert len(response.json()["objects"]) == 100
        latencies.append(elapsed)
    summary("deep_page", latencies, position=position, collection=len(records))
else:
    sys.exit("unknown mode %s" % mode)
