"""Shared helpers for the benchmarks: output folder, child processes, machine facts, store fillers.

Each variant runs in its own child process so that its peak memory (ru_maxrss)
is its own and not the parent's or the other variant's.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
# OFFICEFLOW_BENCH_OUT: where results and scratch workspaces go (the tests point it at a temporary folder).
OUT = Path(os.environ.get("OFFICEFLOW_BENCH_OUT") or REPO / "benchmarks" / "out")
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def out_dir(name: str) -> Path:
    path = OUT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    VmHWM belongs to the process image, so it starts afresh at exec; ru_maxrss
    would carry over the parent's peak into a child started with fork + exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": date.today().isoformat(), "cores": os.cpu_count(), "cpu": cpu,
            "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}",
            "load_average": load_average()}


def load_average() -> list[float]:
    """The 1/5/15-minute load averages when the run started (the machine is shared: say how busy it was)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def run_child(script: Path, *args: str, timeout: float = 900) -> dict:
    """Run ``python script args`` and return the JSON object it prints on its last line."""
    proc = subprocess.run([sys.executable, str(script), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def emit(result: dict) -> None:
    """The child's answer to its parent: one JSON line on stdout."""
    print(json.dumps(result, ensure_ascii=False), flush=True)


def save_result(name: str, result: dict) -> Path:
    path = OUT / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


MISSED = 3  # exit status of a run that completed but missed its target (a crash exits 1)


def finish(name: str, results: dict, met: bool, target: str) -> int:
    """Print the verdict against the quality bar, save the figures, and exit MISSED on a miss."""
    verdict = "达标 / meets target" if met else "未达标 / MISSES target"
    results["target"], results["meets_target"] = target, met
    print(f"  target: {target}: {verdict}")
    print(f"  → {save_result(name, results)}")
    return 0 if met else MISSED


class Meter:
    """Wall seconds, CPU seconds (this process and its waited-for children) and peak memory of a block.

    CPU time does not depend on what else runs on the machine, so it is the figure to
    compare across runs on a shared machine; wall time is what a user waits.
    ``peak_mb`` is ru_maxrss: the largest of this process and any child it waited for.
    """

    def __enter__(self):
        self._wall = time.perf_counter()
        self._self = resource.getrusage(resource.RUSAGE_SELF)
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc):
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wall = time.perf_counter() - self._wall
        self.cpu_self = (me.ru_utime + me.ru_stime) - (self._self.ru_utime + self._self.ru_stime)
        self.cpu_children = (kids.ru_utime + kids.ru_stime) - (self._children.ru_utime + self._children.ru_stime)
        self.cpu = self.cpu_self + self.cpu_children
        self.peak_mb = max(me.ru_maxrss, kids.ru_maxrss) / 1024

    def to_dict(self) -> dict:
        return {"wall_seconds": round(self.wall, 3), "cpu_seconds": round(self.cpu, 3),
                "cpu_self_seconds": round(self.cpu_self, 3), "cpu_children_seconds": round(self.cpu_children, 3),
                "peak_mb": round(self.peak_mb, 1)}

    def line(self, label: str) -> str:
        return (f"  {label:<8} wall {self.wall:7.2f} s   CPU {self.cpu:7.2f} s "
                f"(children {self.cpu_children:.2f} s)   peak {self.peak_mb:6.1f} MB")


# --- the naive script, measured in every run ---------------------------------------------

NAIVE_COLUMNS = ("编号", "表单", "申请人", "部门", "金额", "状态", "提交时间", "审批人", "结论", "完成时间", "备注", "文件")


def _naive_register(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    rng = random.Random(1)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审批台账")
    ws.append(list(NAIVE_COLUMNS))
    for i in range(rows):
        ws.append([f"SP-{i:06d}", "客户登记表", "王芳", "销售一部", _amount(rng), "已通过",
                   NOW.replace(tzinfo=None) - timedelta(minutes=i), "李经理", "同意", NOW.date(), "", f"archive/{i}.xlsx"])
    wb.save(path)


def naive_script(folder: Path, *, forms: int = 20, rows: int = 10_000) -> dict:
    """The script one writes first: per form, openpyxl loads the register, appends a row, saves.

    Measured on ``forms`` forms against a ``rows``-row register; ``per_form`` figures
    scale it to any count (the cost is flat in the forms, linear in the register).
    """
    from openpyxl import load_workbook

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "naive-register.xlsx"
    _naive_register(path, rows)
    with Meter() as m:
        for i in range(forms):
            wb = load_workbook(path)
            wb.active.append([f"NEW-{i:04d}", "客户登记表", "王芳", "销售一部", Decimal("1234.50"), "审批中",
                              NOW.replace(tzinfo=None), "李经理", None, None, "", f"inbox/{i}.xlsx"])
            wb.save(path)
    result = {"forms": forms, "register_rows": rows, **m.to_dict()}
    result["per_form_cpu_seconds"] = m.cpu / forms
    result["per_form_wall_seconds"] = m.wall / forms
    print(f"  naive script: {forms} forms on a {rows:,}-row register: CPU {m.cpu:.2f} s, wall {m.wall:.2f} s "
          f"→ {result['per_form_cpu_seconds']:.3f} s CPU per form", flush=True)
    return result


def ratio(naive: dict, units: float, ours_cpu: float, ours_wall: float) -> dict:
    """How many times faster than the naive script doing the same ``units`` forms."""
    cpu = naive["per_form_cpu_seconds"] * units / ours_cpu if ours_cpu > 0 else float("inf")
    wall = naive["per_form_wall_seconds"] * units / ours_wall if ours_wall > 0 else float("inf")
    print(f"  naive/ours for {units:g} forms: {cpu:.1f}× CPU, {wall:.1f}× wall", flush=True)
    return {"units": units, "cpu": round(cpu, 2), "wall": round(wall, 2)}


def naive_args(ap) -> None:
    ap.add_argument("--naive-forms", type=int, default=20, help="forms the naive script is measured on")
    ap.add_argument("--naive-rows", type=int, default=10_000, help="rows of the naive script's register")


class Stopwatch:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# --- filling a store directly -------------------------------------------------------

CUSTOMERS = [f"{city}{kind}{i:03d}有限公司" for i in range(40)
             for city, kind in (("上海", "机电"), ("杭州", "贸易"), ("南京", "科技"), ("苏州", "精密"), ("宁波", "实业"))]
PAYMENTS = ("预付款", "货到付款", "账期")
APPROVERS = ('["李经理"]', '["李经理", "赵财务"]', '["李经理", "王总", "陈法务"]')


def _amount(rng: random.Random) -> Decimal:
    # Realistic contract sums: mostly distinct, from a thousand to a few million yuan.
    return Decimal(rng.randrange(100_000, 300_000_000)) / 100


def case_rows(n: int, *, start: int = 1, form_id: str = "sales_contract", title: str = "销售合同审批表",
              prefix: str = "HT-CASE", seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + n):
        created = NOW - timedelta(days=rng.randrange(0, 700), minutes=rng.randrange(0, 600))
        rows.append({"id": i, "number": f"{prefix}-{i:06d}", "form_id": form_id, "form_title": title,
                     "applicant": "王芳", "department": "销售一部", "amount": _amount(rng), "status": "approved",
                     "round": 1, "data": "{}", "fingerprint": "0" * 64, "created_at": created,
                     "updated_at": created, "decided_at": created + timedelta(days=2)})
    return rows


def contract_rows_for(cases: list[dict], seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for k, case in enumerate(cases, start=1):
        signed = case["created_at"].date()
        number = f"HT-{signed.year}-{k:06d}"
        rows.append({"case_id": case["id"], "number": number, "year": signed.year,
                     "customer": CUSTOMERS[rng.randrange(len(CUSTOMERS))], "amount": case["amount"],
                     "contract_type": "销售合同", "signed_on": signed, "delivery_on": signed + timedelta(days=14),
                     "ship_due_on": signed + timedelta(days=3), "payment": PAYMENTS[k % 3],
                     "approved_on": signed + timedelta(days=2), "approvers": APPROVERS[k % 3],
                     "status": "生成失败" if k % 997 == 0 else "已生成",
                     "file_path": f"outbox/contracts/{number}.docx", "created_at": case["decided_at"]})
    return rows


def insert_chunks(conn, table, rows: list[dict], size: int = 5000) -> None:
    for at in range(0, len(rows), size):
        conn.execute(table.insert(), rows[at:at + size])


def fill_contracts(store, n: int) -> None:
    """``n`` approved sales-contract cases, each with its contract, inserted in bulk."""
    from automation.record import schema as s

    cases = case_rows(n)
    with store.begin() as conn:
        insert_chunks(conn, s.cases, cases)
        insert_chunks(conn, s.contracts, contract_rows_for(cases))


# --- workspaces and forms ------------------------------------------------------------

def officeflow(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """The real command line, as a user runs it."""
    exe = Path(sys.executable).with_name("officeflow")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "automation"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def tune(root: Path, **values) -> None:
    """Set ``key = value`` lines already present in officeflow.toml."""
    import re

    path = root / "officeflow.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {literal}", text, flags=re.MULTILINE)
        if n != 1:
            raise KeyError(key)
    path.write_text(text, encoding="utf-8")


def vary(src: Path, dest: Path, replacements: dict[str, str]) -> Path:
    """Copy an Office file, replacing text inside its XML parts: a new form in ~2 ms."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".xml"):
                text = data.decode("utf-8")
                for old, new in replacements.items():
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dest


def filled_templates(folder: Path, today: date) -> dict[str, Path]:
    """One filled 客户登记表 (.xlsx) and one 出差申请表 (.docx), built with the real builders."""
    sys.path.insert(0, str(REPO / "tests"))
    from support.forms import build_blank, fill_docx, fill_xlsx

    from automation.samples import customer_registration, trip_request

    folder.mkdir(parents=True, exist_ok=True)
    customer = fill_xlsx(build_blank("customer_registration", folder), customer_registration(0, today))
    trip = fill_docx(build_blank("trip_request", folder), trip_request(today))
    return {"customer": customer, "trip": trip}


TRIP_REASON = "拜访客户,洽谈年度采购合同"


def make_forms(templates: dict[str, Path], folder: Path, n: int, *, customer_share: float = 0.6) -> list[Path]:
    """``n`` distinct valid forms: customer registrations and trip requests, varied by value."""
    from automation.samples import credit_code

    folder.mkdir(parents=True, exist_ok=True)
    customers = int(n * customer_share)
    paths = []
    for i in range(1, n + 1):
        if i <= customers:
            swap = {"上海示例贸易0000有限公司": f"上海示例贸易{i:04d}有限公司", credit_code(0): credit_code(i)}
            paths.append(vary(templates["customer"], folder / f"客户登记-{i:04d}.xlsx", swap))
        else:
            swap = {TRIP_REASON: f"{TRIP_REASON}(第{i}次)"}
            paths.append(vary(templates["trip"], folder / f"出差申请-{i:04d}.docx", swap))
    return paths


def fill_office(store, n: int) -> None:
    """``n`` past cases with their contracts and ``n`` customers: registers of ``n`` rows."""
    from automation.record import schema as s

    cases = case_rows(n)
    rng = random.Random(5)
    customers = [{"name": f"存量客户{i:05d}有限公司", "norm_name": f"存量客户{i:05d}", "grade": "B",
                  "owner": "王芳", "department": "销售一部", "credit_limit": Decimal(rng.randrange(0, 500)) * 1000,
                  "terms_days": 30, "status": "正常", "registered_on": NOW.date() - timedelta(days=rng.randrange(900))}
                 for i in range(n)]
    with store.begin() as conn:
        insert_chunks(conn, s.cases, cases)
        insert_chunks(conn, s.contracts, contract_rows_for(cases))
        insert_chunks(conn, s.customers, customers)
