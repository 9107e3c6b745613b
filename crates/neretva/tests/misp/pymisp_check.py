#!/usr/bin/env python3
"""Drives PyMISP 2.5.34.4 against Neretva's MISP-compatible API and checks each answer; exits 1
naming every check that failed.

Usage: pymisp_check.py URL KEY OTHER_KEY SHARING_GROUP

KEY is an API token of an analyst of the operator's organisation (it may write); OTHER_KEY one
of a user of another organisation. SHARING_GROUP is the name of a sharing group both belong to.
"""
import json
import sys
import traceback
import uuid

import urllib3
from pymisp import MISPAttribute, MISPEvent, MISPSighting, PyMISP, PyMISPError

urllib3.disable_warnings()

url, key, other_key, group_name = sys.argv[1:5]
failures = []
checks = 0
state = {}


def check(name, fn):
    """Runs one check; an exception or a false assertion is a failure."""
    global checks
    checks += 1
    try:
        fn()
    except Exception:  # noqa: BLE001 - every problem is a failure to report
        failures.append(name)
        print("FAIL %s\n%s" % (name, traceback.format_exc()), file=sys.stderr)


def connect():
    misp = PyMISP(url, key, ssl=False)
    assert misp.misp_instance_version["version"] == "2.5.2", misp.misp_instance_version
    assert misp.describe_types["categories"], "describeTypes has categories"
    state["misp"] = misp
    state["other"] = PyMISP(url, other_key, ssl=False)


def invalid_key():
    try:
        PyMISP(url, "nrt_00000000000000000000000000000000_wrong", ssl=False)
    except PyMISPError as error:
        assert "Authentication failed" in str(error) or "Unable to connect" in str(error), str(error)
    else:
        raise AssertionError("an invalid key was accepted")


def create():
    misp = state["misp"]
    event = MISPEvent()
    event.info = "PyMISP phishing wave"
    event.distribution = 0
    event.threat_level_id = 2
    event.analysis = 1
    event.add_tag("tlp:green")
    event.add_tag("campaign:pymisp")
    event.add_attribute("ip-dst", "45.9.148.10", comment="C2")
    event.add_attribute("domain", "pymisp-evil.example", to_ids=True)
    created = misp.add_event(event, pythonify=True)
    assert isinstance(created, MISPEvent), created
    assert created.id > 0
    assert created.uuid == event.uuid
    assert created.info == "PyMISP phishing wave"
    assert len(created.attributes) == 2
    assert all(attribute.id > 0 for attribute in created.attributes)
    assert {tag.name for tag in created.tags} == {"tlp:green", "campaign:pymisp"}
    state["event"] = created


def fetch():
    misp = state["misp"]
    created = state["event"]
    by_uuid = misp.get_event(created.uuid, pythonify=True)
    by_id = misp.get_event(created.id, pythonify=True)
    assert by_uuid.uuid == by_id.uuid == created.uuid
    assert by_id.id == created.id
    assert {a.value for a in by_uuid.attributes} == {"45.9.148.10", "pymisp-evil.example"}
    assert [a.id for a in by_uuid.attributes] == [a.id for a in created.attributes]
    assert misp.event_exists(created.uuid)
    assert misp.event_exists(created.id)
    assert not misp.event_exists(str(uuid.uuid4()))
    missing = misp.get_event(str(uuid.uuid4()))
    assert missing["errors"][0] == 404, missing


def update():
    misp = state["misp"]
    event = misp.get_event(state["event"].uuid, pythonify=True)
    event.info = "PyMISP phishing wave, revised"
    event.add_attribute("url", "https://pymisp-evil.example/login", category="Network activity")
    updated = misp.update_event(event, pythonify=True)
    assert updated.info == "PyMISP phishing wave, revised", updated.info
    assert len(updated.attributes) == 3
    ids = {a.value: a.id for a in updated.attributes}
    before = {a.value: a.id for a in state["event"].attributes}
    # Attributes keep their numeric ids across edits.
    assert all(ids[value] == id_ for value, id_ in before.items()), (ids, before)
    state["event"] = updated


def add_attribute():
    misp = state["misp"]
    attribute = MISPAttribute()
    attribute.type = "sha256"
    attribute.value = "a" * 64
    attribute.to_ids = True
    added = misp.add_attribute(state["event"].uuid, attribute, pythonify=True)
    assert isinstance(added, MISPAttribute), added
    assert added.id > 0 and added.value == "a" * 64 and added.event_id == state["event"].id
    fetched = misp.get_attribute(added.id, pythonify=True)
    assert fetched.uuid == added.uuid
    added.comment = "dropper"
    edited = misp.update_attribute(added, pythonify=True)
    assert edited.comment == "dropper" and edited.id == added.id, edited
    state["attribute"] = edited
    bad = MISPAttribute()
    bad.type = "ip-dst"
    bad.value = "not an address"
    refused = misp.add_attribute(state["event"].uuid, bad)
    assert "errors" in refused and refused["errors"][0] in (400, 422), refused


def tags():
    misp = state["misp"]
    event = state["event"]
    attached = misp.tag(event.uuid, "rsit:fraud=\"phishing\"")
    assert attached.get("saved") is True, attached
    misp.tag(state["attribute"].uuid, "malware:dropper")
    fetched = misp.get_event(event.uuid, pythonify=True)
    assert "rsit:fraud=\"phishing\"" in {tag.name for tag in fetched.tags}
    tagged = [a for a in fetched.attributes if a.uuid == state["attribute"].uuid][0]
    assert "malware:dropper" in {tag.name for tag in tagged.tags}
    misp.untag(event.uuid, "campaign:pymisp")
    fetched = misp.get_event(event.uuid, pythonify=True)
    assert "campaign:pymisp" not in {tag.name for tag in fetched.tags}


def publish():
    misp = state["misp"]
    answer = misp.publish(state["event"].uuid)
    assert answer.get("success") is True, answer
    fetched = misp.get_event(state["event"].uuid, pythonify=True)
    assert fetched.published is True
    assert fetched.publish_timestamp.timestamp() > 0


def search_events():
    misp = state["misp"]
    uuid_ = state["event"].uuid
    found = misp.search(controller="events", value="45.9.148.10", pythonify=True)
    assert [e.uuid for e in found] == [uuid_], found
    found = misp.search(controller="events", value="pymisp-evil%", type_attribute="domain", pythonify=True)
    assert [e.uuid for e in found] == [uuid_], found
    assert misp.search(controller="events", value="45.9.148.10", type_attribute="domain") == []
    found = misp.search(controller="events", tags=["tlp:green"], published=True, pythonify=True)
    assert uuid_ in [e.uuid for e in found]
    assert misp.search(controller="events", tags=["!tlp:green"], value="45.9.148.10") == []
    assert misp.search(controller="events", published=False, value="45.9.148.10") == []
    found = misp.search(controller="events", eventinfo="%revised%", pythonify=True)
    assert [e.uuid for e in found] == [uuid_]
    page_one = misp.search(controller="events", limit=1, page=1, pythonify=True)
    page_two = misp.search(controller="events", limit=1, page=2, pythonify=True)
    assert len(page_one) == 1 and len(page_two) == 1 and page_one[0].uuid != page_two[0].uuid
    total = len(misp.search(controller="events"))
    assert total >= 2
    assert len(misp.search(controller="events", limit=1, page=total)) == 1
    assert misp.search(controller="events", limit=1, page=total + 1) == []
    bad = misp.search(controller="events", return_format="csv", value="x")
    assert "errors" in bad and bad["errors"][0] == 400, bad


def search_attributes():
    misp = state["misp"]
    found = misp.search(controller="attributes", value="45.9.148.10", pythonify=True)
    assert [a.value for a in found] == ["45.9.148.10"], found
    found = misp.search(controller="attributes", type_attribute="sha256", to_ids=True, pythonify=True)
    assert [a.uuid for a in found] == [state["attribute"].uuid]
    raw = misp.search(controller="attributes", value="pymisp-evil%")
    assert {a["value"] for a in raw["Attribute"]} == {"pymisp-evil.example"}
    assert raw["Attribute"][0]["Event"]["uuid"] == state["event"].uuid


def index():
    misp = state["misp"]
    found = misp.search_index(eventinfo="revised", pythonify=True)
    assert [e.uuid for e in found] == [state["event"].uuid], found
    assert misp.search_index(published=False, eventinfo="revised") == []
    everything = misp.search_index()
    assert len(everything) >= 2, everything


def sharing_groups():
    misp = state["misp"]
    groups = misp.sharing_groups(pythonify=True)
    assert group_name in [group.name for group in groups], groups
    group = [g for g in groups if g.name == group_name][0]
    viewed = misp.get_sharing_group(group.id, pythonify=True)
    assert viewed.name == group_name


def sighting():
    misp = state["misp"]
    sighting = MISPSighting()
    sighting.from_dict(source="sensor-1", type="0")
    added = misp.add_sighting(sighting, state["attribute"].uuid, pythonify=True)
    assert added.source == "sensor-1", added
    fetched = misp.get_event(state["event"].uuid)
    attribute = [a for a in fetched["Event"]["Attribute"] if a["uuid"] == state["attribute"].uuid][0]
    assert [s["source"] for s in attribute["Sighting"]] == ["sensor-1"], attribute
    by_value = misp.add_sighting({"value": "45.9.148.10", "source": "sensor-2"})
    assert by_value["Sighting"]["source"] == "sensor-2", by_value


def other_organisation():
    other = state["other"]
    event = state["event"]
    missing = other.get_event(event.uuid)
    assert missing["errors"][0] == 404, missing
    assert not other.event_exists(event.uuid)
    assert other.search(controller="events", value="45.9.148.10") == []
    assert other.search(controller="attributes", value="45.9.148.10") == {"Attribute": []}
    assert other.search_index(eventinfo="revised") == []
    refused = other.get_attribute(state["attribute"].id)
    assert refused["errors"][0] == 404, refused
    refused = other.delete_event(event.uuid)
    assert refused["errors"][0] == 404, refused


def delete():
    misp = state["misp"]
    answer = misp.delete_attribute(state["attribute"].id)
    assert answer.get("message") == "Attribute deleted.", answer
    fetched = misp.get_event(state["event"].uuid, pythonify=True)
    assert state["attribute"].uuid not in [a.uuid for a in fetched.attributes if not a.deleted]
    answer = misp.delete_event(state["event"].uuid)
    assert answer.get("success") is True, answer
    assert not misp.event_exists(state["event"].uuid)
    assert misp.search(controller="events", value="45.9.148.10") == []


for name, fn in [
    ("connect", connect), ("invalid_key", invalid_key), ("create_event", create), ("fetch_event", fetch),
    ("update_event", update), ("add_edit_attribute", add_attribute), ("tag_untag", tags),
    ("publish", publish), ("search_events", search_events), ("search_attributes", search_attributes),
    ("search_index", index), ("sharing_groups", sharing_groups), ("sighting", sighting),
    ("other_organisation", other_organisation), ("delete", delete),
]:
    check(name, fn)

print(json.dumps({"checks": checks, "failures": failures}))
sys.exit(1 if failures else 0)
