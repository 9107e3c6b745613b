# SPDX-License-Identifier: EUPL-1.2
#
# Records IntelMQ parser test cases in the fixture format of the shared reference
# (fixtures/parsers/<provider>/<module>.json): for every bot run of a test module, the
# input reports, the bot parameters, every asserted message and everything the bot emitted.
#
# Developer tool, not run by cargo. It reproduces the shared reference's fixtures exactly
# (checked on alienvault, bambenek, generic and json) and recorded the modules the reference
# lacks. Usage, with IntelMQ 3.5.0 from PyPI in a scratch venv (IntelMQ refuses to run its
# tests as root, so run as an unprivileged user):
#
#   python3 -m venv /tmp/imq && /tmp/imq/bin/pip install intelmq==3.5.0 async_timeout
#   mkdir -p /tmp/imq-root && INTELMQ_ROOT_DIR=/tmp/imq-root \
#     setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/imq/bin/python \
#     intelmq_capture.py intelmq.tests.bots.parsers.cymru.test_full_bogons out.json
import json, sys, unittest, importlib
import intelmq
import intelmq.lib.test as t

current = {"runs": None}

orig_run_bot = t.BotTestCase.run_bot
orig_assert = t.BotTestCase.assertMessageEqual
orig_prepare_source = t.BotTestCase.prepare_source_queue

def prepare_source_queue(self):
    orig_prepare_source(self)
    self._captured_input = [json.loads(m) if isinstance(m, str) else json.loads(m.decode()) for m in self.input_queue]

def run_bot(self, *args, **kwargs):
    params = {**getattr(self, "sysconfig", {}), **kwargs.get("parameters", {})}
    run = {"asserted_messages": [], "asserted_queue_len": [],
           "bot": self.bot_reference.__module__ + "." + self.bot_reference.__name__,
           "parameters": params}
    try:
        return orig_run_bot(self, *args, **kwargs)
    finally:
        run["input"] = getattr(self, "_captured_input", [])
        out = {}
        try:
            for path in self.pipe.destination_queues:
                out[path] = [json.loads(x) for x in self.get_output_queue(path)]
        except Exception as e:
            out = {"error": repr(e)}
        run["observed_output"] = out
        current["runs"].append(run)

def assertMessageEqual(self, queue_pos, expected_msg, compare_raw=True, path="_default"):
    exp = expected_msg.to_dict(with_type=True) if hasattr(expected_msg, "to_dict") else dict(expected_msg)
    if current["runs"]:
        current["runs"][-1]["asserted_messages"].append(
            {"compare_raw": compare_raw, "expected": exp, "path": path, "queue_pos": queue_pos})
    return orig_assert(self, queue_pos, expected_msg, compare_raw=compare_raw, path=path)

t.BotTestCase.run_bot = run_bot
t.BotTestCase.assertMessageEqual = assertMessageEqual
t.BotTestCase.prepare_source_queue = prepare_source_queue

class Result(unittest.TextTestResult):
    pass

class Rec(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.cases = []
    def startTest(self, test):
        super().startTest(test)
        current["runs"] = []
        current["status"] = "pass"
    def addFailure(self, test, err):
        super().addFailure(test, err); current["status"] = "fail"; sys.stderr.write(self.failures[-1][1])
    def addError(self, test, err):
        super().addError(test, err); current["status"] = "fail"; sys.stderr.write(self.errors[-1][1])
    def addSkip(self, test, reason):
        super().addSkip(test, reason); current["status"] = "skip"
    def stopTest(self, test):
        super().stopTest(test)
        if current["runs"]:
            self.cases.append({"runs": current["runs"], "status": current["status"], "test": test.id()})

def main(modname, outpath):
    mod = importlib.import_module(modname)
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    res = Rec()
    suite.run(res)
    data = {"cases": res.cases, "intelmq_version": intelmq.__version__, "test_module": modname}
    with open(outpath, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
