#!/usr/bin/env python3
"""Reads IntelMQ JSON lines written by Neretva as IntelMQ 3.5.0 reads a message between bots
(`MessageFactory.unserialize`, with IntelMQ's own harmonisation) and prints one JSON object:

  {"checked": N,
   "rejected": [{"line": n, "error": "..."}],        IntelMQ refused the event
   "not_strict": [{"line": n, "field": f, "value": v}],  valid only after IntelMQ's sanitising
   "changed": [{"line": n, "field": f, "ours": v, "intelmq": w}],  IntelMQ holds another value
   "serialized": ["...", ...]}                       IntelMQ's own serialisation of each event

A value is strict when IntelMQ's harmonisation type accepts it without sanitising
(`is_valid(value, sanitize=False)`), so a bot receiving it keeps exactly what Neretva wrote.
Exit code 0 whatever the result; the caller decides.

Usage: check_events.py FILE
"""
import json
import sys
import warnings

from importlib.resources import files

from intelmq.lib.message import MessageFactory

HARMONIZATION = json.loads(files("intelmq").joinpath("etc/harmonization.conf").read_text())

warnings.simplefilter("ignore")
report = {"checked": 0, "rejected": [], "not_strict": [], "changed": [], "serialized": []}
with open(sys.argv[1], encoding="utf-8") as lines:
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        report["checked"] += 1
        ours = json.loads(line)
        try:
            event = MessageFactory.unserialize(line, harmonization=HARMONIZATION, default_type="Event")
        except Exception as error:  # IntelMQ raises its own exception types and ValueError
            report["rejected"].append({"line": number, "error": f"{type(error).__name__}: {error}"})
            report["serialized"].append("")
            continue
        for field, value in ours.items():
            if field.startswith("extra."):
                continue  # extra is one JSONDict in IntelMQ; compared below
            if not event.is_valid(field, value, sanitize=False):
                report["not_strict"].append({"line": number, "field": field, "value": value})
        theirs = event.to_dict(hierarchical=False)
        for field in sorted(set(ours) | set(theirs)):
            if ours.get(field, None) != theirs.get(field, None) or type(ours.get(field)) is not type(
                theirs.get(field)
            ):
                report["changed"].append(
                    {"line": number, "field": field, "ours": ours.get(field), "intelmq": theirs.get(field)}
                )
        report["serialized"].append(event.serialize())
json.dump(report, sys.stdout, indent=1)
