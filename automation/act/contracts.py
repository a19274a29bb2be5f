"""Filling a contract template (docxtpl) for an approved case, and recording the outcome.

Undefined names are an error here, not blank text (StrictUndefined): a contract
with an empty party name or amount must never reach a customer. Every field of
the form is put into the context (blank ones as None), so only a name the form
does not have at all — a misspelt tag — fails. That failure leaves the approval
untouched, writes a reason file and an alert; ``officeflow contracts lint``
finds the same mistake before any case meets it.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select

from automation.act import pdf as pdf_mod
from automation.errors import OfficeFlowError, StoreError, TemplateError  # noqa: F401 (callers catch TemplateError from here)
from automation.forms.spec import FormSpec, load_spec
from automation.fsutil import atomic_write_text, safe_name
from automation.record import audit, codec
from automation.record import schema as s
from automation.record.registers import row_marks
from automation.record.registers.render import mark_dirty

log = logging.getLogger(__name__)

ACTOR = "OfficeFlow"
PENDING, DONE, FAILED = "待生成", "已生成", "生成失败"
ALERT_KIND = "contract-render-failed"
PDF_ALERT_KIND = "contract-pdf-failed"
COMPANY_KEYS = ("公司名称", "地址", "统一社会信用代码", "法定代表人", "委托代理人", "电话", "传真", "开户行", "账号", "签订地点")
CUSTOMER_KEYS = ("客户名称", "统一社会信用代码", "地址", "法定代表人", "联系人", "联系电话", "开户行", "账号")
# customers table column → the Chinese key templates use
CUSTOMER_COLUMNS = {
    "name": "客户名称", "credit_code": "统一社会信用代码", "address": "地址", "representative": "法定代表人",
    "contact": "联系人", "phone": "联系电话", "bank": "开户行", "account": "账号",
}
# Byte cap as well as characters: Linux allows 255 bytes per name, and a Chinese character takes three.


# --- context ---------------------------------------------------------------


def build_context(case: dict, values: dict, customer: dict | None, company: dict, number: str, today: date,
                  *, fields: Iterable[str] = ()) -> dict:
    """Everything a template may name: form fields, 客户, 公司, the parties, 合同编号, 今天.

    ``fields`` are the form's keys (``spec.all_keys``); those the form left blank
    are present as None so that an optional field never fails a render.
    """
    context: dict[str, Any] = {key: None for key in fields}
    context.update(values)
    context["明细"] = _numbered_rows(values.get("明细"))
    client = customer_details(customer, fallback_name=values.get("客户名称") or case.get("customer"))
    firm = {key: (company or {}).get(key) for key in COMPANY_KEYS}
    seller = _seller(firm, values)
    buyer = _buyer(client)
    context.update({
        "合同编号": number, "今天": today, "申请编号": values.get("申请编号") or case.get("number"),
        "客户": client, "公司": firm, "卖方": seller, "买方": buyer, "甲方": seller, "乙方": buyer,
        "交货地点": values.get("交货地点") or client["地址"],
        "签订地点": values.get("签订地点") or firm["签订地点"] or firm["地址"],
        "数量合计": _total_quantity(context["明细"]),
    })
    return context


def customer_details(customer: dict | None, *, fallback_name: str | None = None) -> dict:
    """The customer's registered details under Chinese keys, whether given by column or by Chinese key."""
    source = dict(customer or {})
    details = {key: source.get(key) for key in CUSTOMER_KEYS}
    for column, key in CUSTOMER_COLUMNS.items():
        if details[key] is None and source.get(column) is not None:
            details[key] = source[column]
    details["客户名称"] = details["客户名称"] or fallback_name
    return details


def _seller(firm: dict, values: dict) -> dict:
    return {
        "名称": firm["公司名称"], "地址": firm["地址"], "统一社会信用代码": firm["统一社会信用代码"],
        "法定代表人": firm["法定代表人"], "联系人": values.get("销售员") or firm["委托代理人"],
        "电话": firm["电话"], "开户行": firm["开户行"], "账号": firm["账号"],
    }


def _buyer(client: dict) -> dict:
    return {
        "名称": client["客户名称"], "地址": client["地址"], "统一社会信用代码": client["统一社会信用代码"],
        "法定代表人": client["法定代表人"], "联系人": client["联系人"], "电话": client["联系电话"],
        "开户行": client["开户行"], "账号": client["账号"],
    }


def _numbered_rows(rows) -> list[dict]:
    return [{**row, "序号": i} for i, row in enumerate(rows or [], start=1)]


def _total_quantity(rows: list[dict]) -> Decimal | None:
    quantities = [row.get("数量") for row in rows]
    if not quantities or any(not isinstance(q, (int, Decimal)) for q in quantities):
        return None
    return sum((Decimal(q) for q in quantities), Decimal(0))


# --- rendering -------------------------------------------------------------


def safe_file_name(text: str, limit: int = 80) -> str:
    """No path separators or reserved characters, at most ``limit`` characters and 200 bytes."""
    return safe_name(text, limit=limit)


def contract_file_name(number: str, customer_name: str | None, suffix: str = ".docx") -> str:
    return safe_file_name(f"{number} {customer_name or ''}".strip()) + suffix


def render_contract(template: Path, context: dict, out_folder: Path, number: str, customer_name: str) -> Path:
    """Render ``template`` into ``out_folder/<合同编号> <客户名称>.docx``, swapped in atomically."""
    from automation.act import contract_docx  # docxtpl, Jinja and python-docx only when a contract is made

    return contract_docx.render_contract(Path(template), context, Path(out_folder) / contract_file_name(number, customer_name))


# The rendering machinery under its old names here, imported only when asked for.
_RENDERING = ("make_env", "render_env", "_Template", "_OPENED", "_Undo", "_CompiledOnce", "_save_at_zip_level",
              "_template_error")


def __getattr__(name: str):
    if name in _RENDERING:
        from automation.act import contract_docx  # docxtpl and Jinja only when a contract is made

        return getattr(contract_docx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- for an approved case --------------------------------------------------


def render_for_case(store, settings, case_id: int, *, template_path: Path, company: dict,
                    spec: FormSpec | None = None, pdf: bool = True) -> Path | None:
    """(Re)generate the contract of an approved case. Returns None when the template failed.

    The approval is never touched: success or failure only changes the contract
    row, and a failure leaves a reason file and an alert for `officeflow status`.
    Regenerating gives the same number and content, because both come from the store.
    """
    with store.read() as conn:
        case, contract, customer = _load(conn, case_id)
    values = codec.loads(case["data"]) or {}
    spec = spec or _spec_for(settings, case["form_id"])
    customer_name = values.get("客户名称") or case["customer"]
    try:
        context = build_context(case, values, customer, company, contract["number"], _contract_day(contract, store),
                                fields=spec.all_keys if spec else ())
        path = render_contract(Path(template_path), context, settings.contracts_out, contract["number"], customer_name)
    # The template is the administrator's document: whatever goes wrong inside it
    # (docxtpl, Jinja, a filter, the file) must not cost the case its approval.
    except Exception as exc:  # noqa: BLE001
        log.warning("合同 %s 生成失败:%s", contract["number"], exc)
        _record_failure(store, settings, contract, customer_name, Path(template_path), exc)
        return None
    _record_success(store, settings, contract, path)
    if pdf:
        _pdf_beside(store, contract["number"], path)
    return path


def _load(conn, case_id: int) -> tuple[dict, dict, dict | None]:
    case = conn.execute(select(s.cases).where(s.cases.c.id == case_id)).mappings().first()
    contract = conn.execute(select(s.contracts).where(s.contracts.c.case_id == case_id)).mappings().first()
    if case is None or contract is None:
        raise StoreError(f"申请 {case_id} 没有已分配的合同编号,无法生成合同;请先完成审批并分配编号。",
                         code="contract-number-missing", location=str(case_id))
    name = codec.loads(case["data"]).get("客户名称") or case["customer"]
    customer = conn.execute(select(s.customers).where(s.customers.c.name == name)).mappings().first()
    return dict(case), dict(contract), _with_registration(conn, dict(customer)) if customer else None


def _with_registration(conn, customer: dict) -> dict:
    """The register keeps no address; the approved 客户登记表 that created the customer has it."""
    if not customer.get("case_id"):
        return customer
    data = conn.execute(select(s.cases.c.data).where(s.cases.c.id == customer["case_id"])).scalar()
    registered = codec.loads(data) or {}
    return {**{k: v for k, v in registered.items() if k in CUSTOMER_KEYS}, **{k: v for k, v in customer.items() if v is not None}}


def _spec_for(settings, form_id: str) -> FormSpec | None:
    path = Path(settings.forms) / f"{form_id}.yaml"
    return load_spec(path) if path.exists() else None


def _contract_day(contract: dict, store) -> date:
    """The contract's own date (approval day), so a regenerated contract reads the same."""
    if contract.get("approved_on"):
        return contract["approved_on"]
    return contract["created_at"].astimezone(store.clock.tz).date()


def reason_path(settings, number: str) -> Path:
    return settings.contracts_out / f"{safe_file_name(number)} 生成失败.原因.txt"


def _relative(settings, path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(settings.root).resolve()))
    except ValueError:
        return str(path)


def _record_success(store, settings, contract: dict, path: Path) -> None:
    number = contract["number"]
    rel = _relative(settings, path)
    reason_path(settings, number).unlink(missing_ok=True)
    with store.begin() as conn:
        conn.execute(s.contracts.update().where(s.contracts.c.id == contract["id"])
                     .values(status=DONE, file_path=rel, render_error=None))
        _mark_register(conn, store, contract)
        conn.execute(s.alerts.update().where(s.alerts.c.kind == ALERT_KIND, s.alerts.c.subject == number)
                     .values(resolved=True))
        audit.append(conn, at=store.now(), actor=ACTOR, action="contract-rendered", subject=number, file=rel)


def _record_failure(store, settings, contract: dict, customer_name: str | None, template: Path, exc: Exception) -> None:
    number = contract["number"]
    message = str(exc)
    reason = reason_path(settings, number)
    atomic_write_text(reason, _reason_text(number, customer_name, template, exc))
    with store.begin() as conn:
        conn.execute(s.contracts.update().where(s.contracts.c.id == contract["id"])
                     .values(status=FAILED, render_error=message))
        _mark_register(conn, store, contract)
        conn.execute(s.alerts.insert().values(
            at=store.now(), kind=ALERT_KIND, subject=number, resolved=False,
            message=f"合同 {number}({customer_name or ''})生成失败:{message}。审批结果仍然有效;修改模板后运行 officeflow contracts render {number}。",
        ))
        audit.append(conn, at=store.now(), actor=ACTOR, action="contract-render-failed", subject=number,
                     detail={"error": message, "code": getattr(exc, "code", type(exc).__name__)},
                     file=_relative(settings, reason))


def _mark_register(conn, store, contract: dict) -> None:
    """Its 状态 and 文件 change after the decision's mark, maybe on a later pass (contracts render);
    合同台账 alone shows them."""
    row_marks.contracts_changed(conn, [contract["id"]])
    mark_dirty(conn, [row_marks.CONTRACTS], store.now())


def _reason_text(number: str, customer_name: str | None, template: Path, exc: Exception) -> str:
    code = getattr(exc, "code", type(exc).__name__)
    return (
        f"合同编号:{number}\n"
        f"客户名称:{customer_name or ''}\n"
        f"合同模板:{template.name}\n"
        f"错误代码:{code}\n"
        f"原因:{exc}\n\n"
        "该合同的审批已经完成并且仍然有效,合同编号也已保留,只是合同文件未能生成。\n"
        f"请管理员修改合同模板(可先运行 officeflow contracts lint 检查),然后运行 officeflow contracts render {number} 重新生成。\n"
    )


def pdfs_beside(store, contracts: list[tuple[str, Path]]) -> None:
    """PDFs of a pass's contracts in one LibreOffice run; if that fails, each on its own
    (so one bad file costs only its own PDF, with its own alert)."""
    if not contracts:
        return
    try:
        pdf_mod.to_pdfs([path for _, path in contracts])
    except OfficeFlowError:
        for number, path in contracts:
            if not path.with_suffix(".pdf").exists():
                _pdf_beside(store, number, path)


def _pdf_beside(store, number: str, docx: Path) -> Path | None:
    try:
        return pdf_mod.to_pdf(docx)
    except OfficeFlowError as exc:
        with store.begin() as conn:
            conn.execute(s.alerts.insert().values(
                at=store.now(), kind=PDF_ALERT_KIND, subject=number, resolved=False,
                message=f"合同 {number} 的 Word 文件已生成,但转换 PDF 失败:{exc}",
            ))
        return None
