#!/usr/bin/env python3
"""Writes one small report per Shadowserver report type of a schema file, for comparing parsers:
a header of every column the type maps and one row of plausible values (chosen by the column's
conversion, else by its target field's IntelMQ type, else by a few well-known column names).

Usage: shadowserver_rows.py SCHEMA OUTDIR — prints how many reports it wrote. Each report is
named as Shadowserver names them, `2024-05-01-<file_name>.csv`.
"""
import json
import os
import sys

from importlib.resources import files

HARMONIZATION = json.loads(files("intelmq").joinpath("etc/harmonization.conf").read_text())["event"]

BY_COLUMN = {
    "timestamp": "2024-05-01 10:00:00", "first_seen": "2024-04-30 09:00:00", "last_seen": "2024-05-01 09:00:00",
    "ip": "192.0.2.10", "src_ip": "192.0.2.10", "dst_ip": "198.51.100.20",
    "port": "443", "src_port": "443", "dst_port": "80",
    "asn": "64496", "src_asn": "64496", "dst_asn": "64497",
    "geo": "AT", "src_geo": "AT", "dst_geo": "DE",
    "region": "STEIERMARK", "src_region": "STEIERMARK", "dst_region": "WIEN",
    "city": "GRAZ", "src_city": "GRAZ", "dst_city": "WIEN",
    "protocol": "tcp", "severity": "high", "naics": "517311", "sector": "Energy",
    "tag": "exchange;cve-2021-26855", "infection": "mirai", "family": "mirai",
    "hostname": "h.example.org", "http_host": "www.example.org", "cc_dns": "",
    "url": "/index.php?q=1", "http_url": "GET /a HTTP/1.1", "application": "https",
    "category": "", "detail": "some detail", "event_id": "", "version": "1.2",
}
BY_CONVERSION = {
    "convert_int": "12", "invalidate_zero": "12", "convert_float": "1.5", "convert_bool": "true",
    "convert_date": "2024-05-01 10:00:00", "convert_date_utc": "2024-05-01 10:00:00",
    "validate_ip": "192.0.2.11", "validate_network": "192.0.2.0/24", "validate_fqdn": "fq.example.org",
    "force_base64": "Zm9vYmFy",
}
BY_TYPE = {
    "IPAddress": "192.0.2.12", "IPNetwork": "192.0.2.0/24", "Integer": "12", "Float": "1.5", "Boolean": "true",
    "ASN": "64496", "FQDN": "host.example.org", "URL": "http://x.example.org/a?b=1", "DateTime": "2024-05-01 10:00:00",
    "LowercaseString": "abc", "UppercaseString": "ABC", "ClassificationType": "scanner",
    "ClassificationTaxonomy": "vulnerable", "Registry": "RIPE", "TLP": "AMBER", "Base64": "Zm9v", "Accuracy": "50",
}

schema = json.load(open(sys.argv[1], encoding="utf-8"))
os.makedirs(sys.argv[2], exist_ok=True)
written = 0
for key, report_type in schema.items():
    if key == "_meta":
        continue
    mappings = report_type.get("required_fields", []) + report_type.get("optional_fields", [])
    columns = list(dict.fromkeys(m[1] for m in mappings))
    row = []
    for column in columns:
        mapping = next(m for m in mappings if m[1] == column)
        conversion = mapping[2] if len(mapping) > 2 else ""
        kind = HARMONIZATION.get(mapping[0], {}).get("type", "")
        if column in BY_COLUMN:
            row.append(BY_COLUMN[column])
        elif conversion in BY_CONVERSION:
            row.append(BY_CONVERSION[conversion])
        else:
            row.append(BY_TYPE.get(kind, "text value"))
    quote = lambda text: '"' + text.replace('"', '""') + '"'
    path = os.path.join(sys.argv[2], f"2024-05-01-{report_type['file_name']}.csv")
    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(map(quote, columns)) + "\n" + ",".join(map(quote, row)) + "\n")
    written += 1
print(written)
