#!/usr/bin/env python3
"""Drives every taxii2-client (v21) call against a Neretva TAXII 2.1 server and checks each
answer; exits 1 naming every check that failed.

Usage: client_check.py DISCOVERY_URL USER PASSWORD TOKEN OBJECTS VERSIONED_ID

The server holds a collection titled "indicators" with OBJECTS objects (one of them,
VERSIONED_ID, in three versions) that USER may read, and an empty collection titled
"empty-writable" that USER may write to. TOKEN is an API token of the same user.
"""
import datetime
import json
import sys
import traceback
import uuid

import requests
from taxii2client.common import TokenAuth
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import Server, Status, as_pages

TAXII = "application/taxii+json;version=2.1"
disc, user, password, token, total, versioned = sys.argv[1:7]
total = int(total)
failures = []
checks = 0


def check(name, fn):
    """Runs one check; an exception or a false assertion is a failure."""
    global checks
    checks += 1
    try:
        fn()
    except Exception:  # noqa: BLE001 - every problem is a failure to report
        failures.append(name)
        print("FAIL %s\n%s" % (name, traceback.format_exc()), file=sys.stderr)


server = Server(disc, user=user, password=password)
state = {}


def discovery():
    assert server.title, "discovery has a title"
    assert len(server.api_roots) == 1, server.api_roots
    assert server.default is not None and server.default.url == server.api_roots[0].url
    state["root"] = server.api_roots[0]


def api_root():
    root = state["root"]
    assert root.title
    assert root.versions == [TAXII], root.versions
    assert root.max_content_length > 0


def collections():
    by_title = {c.title: c for c in state["root"].collections}
    read, write = by_title["indicators"], by_title["empty-writable"]
    assert read.can_read and write.can_read and write.can_write
    assert read.media_types == ["application/stix+json;version=2.1"]
    state["read"], state["write"] = read, write


def refresh():
    read = state["read"]
    before = read.id
    read.refresh()
    assert read.id == before and read.id in read.url


def first_page():
    env = state["read"].get_objects(limit=100)
    assert len(env["objects"]) == 100 and env["more"] is True and env["next"], (len(env["objects"]), env.get("more"))
    state["first"] = env["objects"]


def walk(fn, key="objects", **filters):
    pages, items = 0, []
    for env in as_pages(fn, per_request=100, **filters):
        pages += 1
        items.extend(env.get(key, []))
    return pages, items


def all_objects():
    pages, items = walk(state["read"].get_objects)
    ids = [o["id"] for o in items]
    assert len(items) == total, (len(items), total)
    assert len(set(ids)) == total, "no object twice"
    assert pages == (total + 99) // 100, pages
    assert versioned in ids


def match_type():
    env = state["read"].get_objects(limit=10, type="indicator")
    assert len(env["objects"]) == 10 and all(o["type"] == "indicator" for o in env["objects"])
    none = state["read"].get_objects(type="malware")
    assert none.get("objects", []) == [], none
    both = state["read"].get_objects(limit=5, type=["malware", "indicator"])
    assert len(both["objects"]) == 5


def match_id():
    oid = state["first"][0]["id"]
    env = state["read"].get_objects(id=oid)
    assert [o["id"] for o in env["objects"]] == [oid]
    two = state["read"].get_objects(id=[oid, state["first"][1]["id"]])
    assert len(two["objects"]) == 2


def match_version():
    read = state["read"]
    every = read.get_objects(id=versioned, version="all")["objects"]
    modified = sorted(o["modified"] for o in every)
    assert len(every) == 3, len(every)
    last = read.get_objects(id=versioned)["objects"]
    assert [o["modified"] for o in last] == [modified[-1]]
    first = read.get_objects(id=versioned, version="first")["objects"]
    assert [o["modified"] for o in first] == [modified[0]]
    at = datetime.datetime.strptime(modified[1], "%Y-%m-%dT%H:%M:%S.%fZ")
    exact = read.get_objects(id=versioned, version=at)["objects"]
    assert [o["modified"] for o in exact] == [modified[1]], exact
    state["modified"] = modified


def match_spec_version():
    env = state["read"].get_objects(limit=5, spec_version="2.1")
    assert len(env["objects"]) == 5
    none = state["read"].get_objects(spec_version="2.0")
    assert none.get("objects", []) == []


def manifest():
    env = state["read"].get_manifest(limit=100)
    records = env["objects"]
    assert len(records) == 100 and env["more"] is True
    for record in records:
        assert set(record) == {"id", "date_added", "version", "media_type"}, record
        assert record["media_type"] == "application/stix+json;version=2.1"
    added = [r["date_added"] for r in records]
    assert added == sorted(added) and len(set(added)) == len(added), "date_added unique and increasing"
    state["manifest"] = records


def all_manifest():
    pages, items = walk(state["read"].get_manifest)
    assert len(items) == total and pages == (total + 99) // 100, (len(items), pages)
    state["all_manifest"] = items


def added_after():
    records = state["all_manifest"]
    middle = records[len(records) // 2]["date_added"]
    expected = [r["id"] for r in records if r["date_added"] > middle]
    _, items = walk(state["read"].get_objects, added_after=middle)
    assert [o["id"] for o in items] == expected, (len(items), len(expected))
    as_datetime = datetime.datetime.strptime(middle, "%Y-%m-%dT%H:%M:%S.%fZ")
    env = state["read"].get_objects(limit=1, added_after=as_datetime)
    assert env["objects"][0]["id"] == expected[0]


def get_object():
    oid = state["first"][3]["id"]
    env = state["read"].get_object(oid)
    assert [o["id"] for o in env["objects"]] == [oid]


def versions():
    env = state["read"].object_versions(versioned)
    assert env["more"] is False
    assert len(env["versions"]) == 3 and env["versions"] == sorted(env["versions"])
    assert env["versions"][-1] == state["modified"][-1]


new_ids = ["indicator--%s" % uuid.uuid4() for _ in range(3)]
envelope = {"objects": [
    {"type": "indicator", "spec_version": "2.1", "id": oid, "created": "2026-03-01T00:00:00.000Z",
     "modified": "2026-03-01T00:00:00.000Z", "name": "client check %d" % i,
     "pattern": "[domain-name:value = 'check%d.example']" % i, "pattern_type": "stix",
     "valid_from": "2026-03-01T00:00:00Z"}
    for i, oid in enumerate(new_ids)]}


def add_objects():
    status = state["write"].add_objects(envelope, wait_for_completion=True, poll_interval=1, timeout=10)
    assert status.status == "complete", status.status
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (3, 3, 0, 0)
    assert sorted(s["id"] for s in status.successes) == sorted(new_ids)
    state["status"] = status.id


def add_again():
    status = state["write"].add_objects(json.dumps(envelope))
    assert status.status == "complete"
    assert (status.success_count, status.failure_count) == (0, 3), (status.success_count, status.failure_count)
    assert all("already present" in f["message"] for f in status.failures)


def add_invalid():
    bad = {"objects": [{"type": "indicator", "id": "indicator--%s" % uuid.uuid4(), "spec_version": "2.1",
                        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
                        "pattern": "[domain-name:value = ", "pattern_type": "stix",
                        "valid_from": "2026-03-01T00:00:00Z"}]}
    status = state["write"].add_objects(bad)
    assert status.failure_count == 1 and "pattern" in status.failures[0]["message"], status.failures


def get_status():
    status = state["root"].get_status(state["status"])
    assert status.status == "complete" and status.total_count == 3


def status_without_slash():
    root = state["root"]
    status = Status(root.url + "status/" + state["status"], conn=root._conn,
                    status_info={"id": state["status"], "status": "pending", "total_count": 0,
                                 "success_count": 0, "failure_count": 0, "pending_count": 0})
    status.refresh()
    assert status.status == "complete" and status.success_count == 3


def read_back():
    env = state["write"].get_objects()
    assert sorted(o["id"] for o in env["objects"]) == sorted(new_ids)


def delete_object():
    state["write"].delete_object(new_ids[0])
    try:
        state["write"].get_object(new_ids[0])
    except requests.exceptions.HTTPError as error:
        assert error.response.status_code == 404, error.response.status_code
        assert error.response.headers["Content-Type"] == TAXII
        body = error.response.json()
        assert body["http_status"] == "404" and body["title"], body
    else:
        raise AssertionError("a deleted object was still served")
    left = state["write"].get_objects()["objects"]
    assert len(left) == 2


def token_auth():
    other = Server(disc, auth=TokenAuth(token))
    titles = {c.title for c in other.api_roots[0].collections}
    assert {"indicators", "empty-writable"} <= titles, titles


def wrong_accept_and_credentials():
    url = state["read"].url + "objects/"
    refused = requests.get(url, auth=(user, password), headers={"Accept": "application/json"})
    assert refused.status_code == 406 and refused.headers["Content-Type"] == TAXII, refused.status_code
    assert refused.json()["http_status"] == "406"
    bad = requests.get(url, auth=(user, "wrong password"), headers={"Accept": TAXII})
    assert bad.status_code == 401 and bad.headers["Content-Type"] == TAXII, bad.status_code
    try:
        Server(disc, user=user, password="wrong password").title
    except (requests.exceptions.HTTPError, TAXIIServiceException):
        pass
    else:
        raise AssertionError("a wrong password was accepted")


def changed_filters():
    url = state["read"].url + "objects/"
    first = requests.get(url, params={"limit": 10}, auth=(user, password), headers={"Accept": TAXII}).json()
    changed = requests.get(url, params={"limit": 10, "next": first["next"], "match[type]": "malware"},
                           auth=(user, password), headers={"Accept": TAXII})
    assert changed.status_code == 400, changed.status_code


for name, fn in [
    ("discovery", discovery), ("api_root", api_root), ("collections", collections), ("refresh", refresh),
    ("get_objects_limit_100", first_page), ("as_pages_get_objects", all_objects), ("match_type", match_type),
    ("match_id", match_id), ("match_version", match_version), ("match_spec_version", match_spec_version),
    ("get_manifest_limit_100", manifest), ("as_pages_get_manifest", all_manifest), ("added_after", added_after),
    ("get_object", get_object), ("object_versions", versions), ("add_objects_wait", add_objects),
    ("add_objects_again", add_again), ("add_objects_invalid", add_invalid), ("get_status", get_status),
    ("status_refresh_without_slash", status_without_slash), ("read_back", read_back),
    ("delete_object_then_404", delete_object), ("token_auth", token_auth),
    ("wrong_accept_and_credentials", wrong_accept_and_credentials), ("changed_filters", changed_filters),
]:
    check(name, fn)

print(json.dumps({"checks": checks, "failures": failures}))
sys.exit(1 if failures else 0)
