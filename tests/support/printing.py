"""Looking at outputs as paper: a busy store, batched LibreOffice conversion, PDF page facts."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from support.registers import TZ, add_case, add_task

from automation.record import codec
from automation.record import schema as s

A4 = (595.3, 841.9)  # points, portrait
CUSTOMERS = ("上海示例贸易有限公司", "华东机电设备制造股份有限公司", "福建省福州市鼓楼区某某科技发展有限公司", "厦门示例科技有限公司")
PEOPLE = ("王芳", "李娜", "张伟", "刘洋", "陈静")
DEPARTMENTS = ("销售一部", "销售二部", "财务部", "技术部")


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdfs(files: list[Path], out_dir: Path, timeout: float = 600) -> dict[Path, Path]:
    """Convert every file in ONE LibreOffice run (a start costs seconds); file → its PDF."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="officeflow-print-") as profile:
        subprocess.run([soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, files)],
                       check=True, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return {f: out_dir / f"{f.stem}.pdf" for f in files}


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    sizes: list[tuple[float, float]]  # (width, height) in points, per page
    text: str

    @property
    def all_a4(self) -> bool:
        return all(sorted((round(w, 1), round(h, 1))) == sorted(A4) or _near_a4(w, h) for w, h in self.sizes)

    @property
    def landscape(self) -> bool:
        return all(w > h for w, h in self.sizes)


def _near_a4(w: float, h: float) -> bool:
    small, big = sorted((w, h))
    return abs(small - A4[0]) < 2 and abs(big - A4[1]) < 2


def pdf_facts(pdf: Path) -> PdfFacts:
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return PdfFacts(len(reader.pages), sizes, text)


def squeeze(text: str) -> str:
    return "".join(text.split())


# --- a busy office: n rows in every table a register or the dashboard reads ---------------

def populate_many(store, n: int = 1000, *, start: datetime = datetime(2026, 8, 3, 9, 0, tzinfo=TZ)) -> None:
    with store.begin() as conn:
        for i in range(n):
            created = start + timedelta(hours=7 * i)
            status = ("approved", "in_approval", "rejected", "returned")[i % 4]
            decided = created + timedelta(days=2) if status != "in_approval" else None
            case = add_case(conn, f"SQ-2026-{i + 1:05d}", status=status, applicant=PEOPLE[i % 5],
                            department=DEPARTMENTS[i % 4], amount=f"{1000 + 37 * i}.50", created=created,
                            decided=decided, form_title=("销售合同审批表", "费用报销单", "客户登记表")[i % 3])
            due = (created + timedelta(days=3 if i % 2 else 200)).date()
            add_task(conn, case, PEOPLE[(i + 1) % 5], status="open" if decided is None else "approved",
                     due_on=due, opened=created, decided=decided)
            if decided is None and i % 5 == 0:  # 会签: two people hold the same case
                add_task(conn, case, PEOPLE[(i + 2) % 5], due_on=due, opened=created)
        _many_contracts(conn, n, start)
        _many_others(conn, n, start)


def _many_contracts(conn, n: int, start: datetime) -> None:
    conn.execute(s.customers.insert(), [
        {"name": f"{CUSTOMERS[i % 4]}{i:04d}", "norm_name": f"c{i}", "credit_code": "91310000MA1K000000", "grade": "B",
         "owner": PEOPLE[i % 5], "department": DEPARTMENTS[i % 4], "credit_limit": Decimal("500000.00"),
         "terms_days": 30, "review_due": date(2027, 1, 1), "status": "正常",
         "registered_on": (start + timedelta(days=i % 120)).date()} for i in range(n)])
    conn.execute(s.contracts.insert(), [
        {"case_id": i + 1, "number": f"HT-2026-{i + 1:04d}", "year": 2026, "customer": f"{CUSTOMERS[i % 4]}{i:04d}",
         "amount": Decimal(f"{1234567 + 13 * i}.89"), "signed_on": (start + timedelta(days=i % 120)).date(),
         "delivery_on": date(2026, 12, 1), "ship_due_on": date(2026, 11, 28), "payment": ("预付款", "账期", "货到付款")[i % 3],
         "approved_on": (start + timedelta(days=i % 120)).date(), "approvers": json.dumps(["吴强", "孙丽", "赵建国"]),
         "status": "已生成", "file_path": f"outbox/contracts/HT-2026-{i + 1:04d} {CUSTOMERS[i % 4]}{i:04d}.docx",
         "created_at": start} for i in range(n)])
    conn.execute(s.receivables.insert(), [
        {"customer": f"{CUSTOMERS[i % 4]}{i:04d}", "contract_number": f"HT-2026-{i + 1:04d}",
         "amount": Decimal("1000.00") + i, "kind": "contract"} for i in range(n)])


def _many_others(conn, n: int, start: datetime) -> None:
    conn.execute(s.expense_lines.insert(), [
        {"case_id": i + 1, "claim_number": f"BX-2026-{i:05d}", "claimant": PEOPLE[i % 5], "department": DEPARTMENTS[i % 4],
         "category": ("差旅费", "市内交通", "业务招待费", "办公用品")[i % 4], "occurred_on": (start + timedelta(days=i % 90)).date(),
         "amount": Decimal("86.00") + i, "month": f"2026-{8 + i % 4:02d}", "status": "已批准"} for i in range(n)])
    conn.execute(s.complaints.insert(), [
        {"number": f"TS-2026-{i:05d}", "customer": f"{CUSTOMERS[i % 4]}{i:04d}", "complaint_type": "产品质量",
         "severity": ("一般", "严重")[i % 2], "complained_on": (start + timedelta(days=i % 100)).date(),
         "reply_due": (start + timedelta(days=i % 100 + 2)).date(), "department": "技术部", "revisits": 1,
         "satisfaction": "满意", "status": "已结案" if i % 3 else "处理中",
         "closed_on": (start + timedelta(days=i % 100 + 1 + i % 4)).date() if i % 3 else None} for i in range(n)])
    conn.execute(s.return_lines.insert(), [
        {"case_id": i + 1, "number": f"TH-2026-{i:05d}", "contract_number": f"HT-2026-{i + 1:04d}",
         "product": "工业控制器 KX-200", "quantity": Decimal(i % 7 + 1),
         "reason": "客户收货后发现外包装破损,部分设备外壳有划痕,要求退货并重新发货", "status": "已批准"} for i in range(n)])
    shares = codec.dumps([{"人员": "王芳", "角色": "销售员", "比例": Decimal("0.50"), "金额": Decimal("5000.00")},
                          {"人员": "吴强", "角色": "部门经理", "比例": Decimal("0.50"), "金额": Decimal("5000.00")}])
    conn.execute(s.bad_debts.insert(), [
        {"case_id": 5000 + i, "number": f"HX-2026-{i:05d}", "customer": f"{CUSTOMERS[i % 4]}{i:04d}",
         "contract_number": f"HT-2026-{i + 1:04d}", "amount": Decimal("10000.00") + i, "shares": shares,
         "status": "已核销"} for i in range(n)])
