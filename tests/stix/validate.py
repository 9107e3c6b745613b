#!/usr/bin/env python3
"""Validates STIX 2.1 files with the OASIS stix2-validator and prints one JSON object:
{file: {"valid": bool, "errors": [...], "warnings": [...]}}. Exit code 0 even when invalid;
the caller decides.

Usage: validate.py FILE...
"""
import json
import sys

from stix2validator import ValidationOptions, validate_file

options = ValidationOptions(version="2.1")
report = {}
for path in sys.argv[1:]:
    result = validate_file(path, options)
    objects = result.object_results or []
    report[path] = {
        "valid": bool(result.is_valid),
        "errors": [f"{o.object_id}: {e}" for o in objects for e in (o.errors or [])]
        + ([str(result.fatal)] if getattr(result, "fatal", None) else []),
        "warnings": [f"{o.object_id}: {w}" for o in objects for w in (o.warnings or [])],
    }
json.dump(report, sys.stdout, indent=1)
