#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The block QA (tests/qa_*.py) needs the runtime alone: every qa file runs in a subprocess in
which torch cannot be imported (sys.modules["torch"] = None, so semcom_train cannot either) and
SEMCOM_DATA is an empty folder (no Kodak, CIFAR-10 or BSDS500). Each file must have passing
tests, none may fail or error, and a test may skip for want of torch only if it is marked
``training`` (for want of a data set only if marked ``datasets``), so a qa test that starts to
need torch or a data set without saying so fails here.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
QA_FILES = sorted((ROOT / "tests").glob("qa_*.py"))

# argv[1]: where to write the report; argv[2:]: the qa files
RUN_WITHOUT_TORCH = textwrap.dedent("""
    import json, sys
    sys.modules["torch"] = None  # `import torch` raises ImportError, here and in semcom_train
    import pytest

    class Record:
        def __init__(self):
            self.markers, self.reports = {}, []

        @pytest.hookimpl(trylast=True)  # after conftest.py has added its markers
        def pytest_collection_modifyitems(self, items):
            self.markers = {item.nodeid: sorted({m.name for m in item.iter_markers()}) for item in items}

        def pytest_runtest_logreport(self, report):
            if report.when == "call" or report.outcome != "passed":
                reason = report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple) else ""
                self.reports.append({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                                     "reason": reason})

    record = Record()
    code = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[2:]], plugins=[record])
    with open(sys.argv[1], "w") as out:
        json.dump({"code": int(code), "markers": record.markers, "reports": record.reports}, out)
    sys.exit(0)
""")


def test_every_qa_file_runs_without_torch_and_without_the_data_sets(tmp_path):
    assert QA_FILES, "no tests/qa_*.py"
    empty = tmp_path / "no_datasets"
    empty.mkdir()
    report_path = tmp_path / "report.json"
    env = {**os.environ, "SEMCOM_DATA": str(empty)}
    result = subprocess.run([sys.executable, "-c", RUN_WITHOUT_TORCH, report_path, *QA_FILES], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert report_path.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    output = result.stdout[-5000:] + result.stderr[-2000:]
    assert report["code"] == 0, output
    bad = [r["nodeid"] for r in report["reports"] if r["outcome"] == "failed"]
    assert not bad, output
    passed_files = {r["nodeid"].split("::")[0] for r in report["reports"] if r["outcome"] == "passed"}
    assert passed_files == {f"tests/{p.name}" for p in QA_FILES}, "qa files without a passing test"
    for r in report["reports"]:
        if r["outcome"] != "skipped":
            continue
        markers = report["markers"].get(r["nodeid"], [])
        if "torch" in r["reason"]:
            assert "training" in markers, f"{r['nodeid']} skips without torch but is not marked training"
        if "SEMCOM_DATA" in r["reason"]:
            assert "datasets" in markers, f"{r['nodeid']} skips without the data sets but is not marked datasets"
