#!/usr/bin/env python3
"""Runs IntelMQ 3.5.0 parser bots on reports through IntelMQ's own bot test harness and writes
what each bot emitted.

Usage: run_parsers.py MANIFEST OUTPUT

MANIFEST is a JSON list of {"id": ..., "bot": "intelmq.bots.parsers.<module>", "file": path,
"report": {field: value}, "parameters": {...}}; each report's `raw` is the file's content and
the parameters are the bot's. OUTPUT receives a JSON
object {id: {"events": [...], "errors": [log lines]}}. INTELMQ_ROOT_DIR must name a writable
directory (with var/lib/bots/shadowserver-schema.json for the Shadowserver bot).
"""
import base64
import importlib
import json
import sys
import unittest

import intelmq.lib.test as harness
from intelmq.lib import utils

# IntelMQ's harness refuses to run as root (CI does) unless it can become the `intelmq` user: a
# guard for deployed bots. These bots only parse the given reports in memory, so the check is
# answered here; dropping privileges instead would cut the interpreter off its own library
# where that lives in root's home.
utils.drop_privileges = lambda: True

manifest = json.load(open(sys.argv[1], encoding="utf-8"))
results = {}


def case_class(entry):
    bot = importlib.import_module(entry["bot"]).BOT
    report = {"__type": "Report", "raw": base64.b64encode(open(entry["file"], "rb").read()).decode()}
    report.update(entry["report"])

    class Case(harness.BotTestCase, unittest.TestCase):
        @classmethod
        def set_bot(cls):
            cls.bot_reference = bot
            cls.default_input_message = report
            cls.sysconfig = entry.get("parameters", {})

        def test_run(self):
            self.input_message = report
            self.run_bot(allowed_warning_count=10**6, allowed_error_count=10**6)
            results[entry["id"]] = {
                "events": [json.loads(m) for m in self.get_output_queue()],
                "errors": [line for line in self.loglines_buffer.splitlines() if " - ERROR - " in line],
            }

    Case.__name__ = "Case_" + str(len(results))
    return Case


suite = unittest.TestSuite()
for entry in manifest:
    # Only the run: the harness's own checks of the bot class are IntelMQ's business.
    suite.addTest(case_class(entry)("test_run"))
outcome = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(suite)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(results, out)
sys.exit(0 if not outcome.errors and not outcome.failures else 1)
