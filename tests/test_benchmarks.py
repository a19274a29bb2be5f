"""Every benchmark runs at a tiny size, so none of them can rot unnoticed.

The figures at this size mean nothing (targets are for the full sizes, see
benchmarks/README.md); what is checked is that each script runs the real
pipeline to the end and reports wall and CPU seconds, peak memory and the
ratio against the naive script measured in the same run. The scripts run
at the same time: they spend most of their time waiting for child processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAIVE = ["--naive-forms", "1", "--naive-rows", "50"]
MISSED = 3  # benchmarks/_common.py: completed, target missed (expected at these sizes)
SCRIPTS = {
    "burst_1000": ["bench_burst_1000.py", "--forms", "2", "3", "--history", "20", "30", *NAIVE],
    "decisions": ["bench_decisions.py", "--forms", "2", "--history", "30", *NAIVE],
    "decisions_cell": ["bench_decisions.py", "--forms", "2", "--history", "30", "--by", "cell", *NAIVE],
    "latency": ["bench_latency.py", "--drops", "1", *NAIVE],
    "register_100k": ["bench_register_100k.py", "--rows", "200", *NAIVE],
    "register_incremental": ["bench_register_incremental.py", "--history", "300", "--batches", "1", "3", "--repeat", "1",
                             *NAIVE],
    "kill9": ["bench_kill9.py", "--files", "4", "--max-kills", "1", "--window", "0.2", "0.4", *NAIVE],
    "contracts": ["bench_contracts.py", "--contracts", "3", "--pdf", "2", *NAIVE],
}


def _meter_fields(block: dict) -> None:
    for key in ("wall_seconds", "cpu_seconds", "peak_mb"):
        assert isinstance(block[key], (int, float)) and block[key] > 0, (key, block)


def test_every_benchmark_runs_at_a_tiny_size_and_reports_time_cpu_memory_and_ratio(tmp_path):
    env = {**os.environ, "OFFICEFLOW_BENCH_OUT": str(tmp_path / "out")}
    procs = {}
    for name, (script, *args) in SCRIPTS.items():
        log = (tmp_path / f"{name}.log").open("w")
        procs[name] = (subprocess.Popen([sys.executable, str(REPO / "benchmarks" / script), *args], cwd=REPO, env=env,
                                        stdout=log, stderr=subprocess.STDOUT), log)
    for name, (proc, log) in procs.items():
        rc = proc.wait(timeout=300)
        log.close()
        assert rc in (0, MISSED), (name, (tmp_path / f"{name}.log").read_text()[-3000:])
    results = {name: json.loads((tmp_path / "out" / f"{name}.json").read_text()) for name in SCRIPTS}
    for name, result in results.items():
        naive = result["naive_script"]
        assert naive["forms"] == 1 and naive["per_form_cpu_seconds"] > 0, name
        assert "target" in result and isinstance(result["meets_target"], bool), name

    burst = results["burst_1000"]
    assert burst["ours"]["routed"] == 3 and not burst["ours"]["registers_pending"]
    _meter_fields(burst["ours"])
    assert burst["ratio"]["units"] == 3 and burst["ratio"]["cpu"] > 0
    assert burst["sizes"]["2"]["routed"] == 2 and burst["sizes"]["2"]["ratio"]["units"] == 2
    assert len(burst["machine"]["load_average"]) == 3
    assert burst["history"] == 30 and burst["histories"]["20"]["3"]["routed"] == 3  # every history, every size

    incremental = results["register_incremental"]
    assert incremental["equal_to_full_rebuild"] and incremental["full"]["rows"] == 304
    for size in ("1", "3"):
        for kind in ("new", "changed"):
            assert incremental["batches"][size][kind]["cpu_seconds"] > 0 and incremental["batches"][size][kind]["runs"] == 1
    _meter_fields(incremental["full"])
    _meter_fields(incremental["dashboard_full"])

    decisions = results["decisions"]
    assert decisions["ours"]["decisions"] == 2 and decisions["ours"]["waiting_in_decision_folders"] == 0
    _meter_fields(decisions["ours"])
    assert decisions["ours"]["cpu_ms_per_decision"] > 0 and decisions["ratio"]["cpu"] > 0
    by_cell = results["decisions_cell"]["ours"]
    assert by_cell["by"] == "cell" and by_cell["decisions"] == 2 and by_cell["tasks"].get("approved", 0) >= 2
    _meter_fields(by_cell)

    latency = results["latency"]
    for mode in ("native", "poll"):
        assert latency[mode]["n"] == 1 and latency[mode]["p95"] > 0
        _meter_fields(latency[mode]["watcher"])
        assert latency[mode]["ratio"]["cpu"] > 0

    register = results["register_100k"]
    assert register["ours"]["rows"] == 200 == register["naive"]["rows"]
    _meter_fields(register["ours"]["process"])
    assert register["naive_forms_per_rebuild"] > 0

    contracts = results["contracts"]
    assert contracts["render"]["contracts"] == 3 and contracts["render"]["cpu_ms_per_contract"] > 0
    _meter_fields(contracts["render"]["first"])
    if contracts["pdf"]["available"]:  # CI has LibreOffice (see conftest's soffice fixture)
        assert contracts["pdf"]["files"] == 2
        _meter_fields(contracts["pdf"]["one_run"])

    kill9 = results["kill9"]
    assert kill9["ok"], kill9["checks"]
    _meter_fields(kill9)
    assert kill9["ratio"]["cpu"] > 0
