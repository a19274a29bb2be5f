"""Filling a contract template (docxtpl) for an approved case, and recording the outcome.

Undefined names are an error here, not blank text (StrictUndefined): a contract
with an empty party name or amount must never reach a customer. Every field of
the form is put into the context (blank ones as None), so only a name the form
does not have at all — a misspelt tag — fails. That failure leaves the approval
untouched, writes a reason file and an alert; ``officeflow contracts lint``
finds the same mistake before any case meets it.
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import threading
from collections import OrderedDict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import jinja2
import zipfile
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docxtpl import DocxTemplate
from lxml import etree
from sqlalchemy import select

from automation.act import pdf as pdf_mod
from automation.act.filters import FILTERS
from automation.errors import OfficeFlowError, StoreError, TemplateError
from automation.forms import zip_package
from automation.forms.spec import FormSpec, load_spec
from automation.fsutil import atomic_save, atomic_write_text, safe_name
from automation.record import audit, codec
from automation.record import schema as s

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


def make_env(*, strict: bool = True) -> jinja2.Environment:
    """Autoescaped (a customer name with & or < must not break the XML), filters registered."""
    undefined = jinja2.StrictUndefined if strict else jinja2.Undefined
    env = jinja2.Environment(autoescape=True, undefined=undefined, finalize=_blank_none)
    env.filters.update(FILTERS)
    return env


class _CompiledOnce(jinja2.Environment):
    """An environment whose ``from_string`` compiles each source once per process.

    docxtpl hands Jinja the template's patched XML on every render; for an unchanged
    template that text is the same every time, so compiling it again (most of a
    render's cost) is waste. Keyed by the source text itself, a changed template file
    is compiled afresh — no stale template can be used.
    """

    cache_size = 32

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._compiled: OrderedDict[str, jinja2.Template] = OrderedDict()

    def from_string(self, source, globals=None, template_class=None):
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        template = self._compiled.get(source)
        if template is None:
            template = self._compiled[source] = super().from_string(source)
            while len(self._compiled) > self.cache_size:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(source)
        return template


class _Template(DocxTemplate):
    """docxtpl's template with its XML clean-up (``patch_xml``, a dozen regular expressions over
    the whole body) done once per distinct part text, like the compilation above."""

    _patched: OrderedDict[str, str] = OrderedDict()

    def patch_xml(self, src_xml):
        patched = self._patched.get(src_xml)
        if patched is None:
            patched = self._patched[src_xml] = super().patch_xml(src_xml)
            while len(self._patched) > _CompiledOnce.cache_size:
                self._patched.popitem(last=False)
        return patched


_RENDER_ENV: list[_CompiledOnce] = []


def render_env() -> jinja2.Environment:
    """The one environment contracts render with in this process (see ``_CompiledOnce``)."""
    if not _RENDER_ENV:
        env = _CompiledOnce(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_blank_none)
        env.filters.update(FILTERS)
        _RENDER_ENV.append(env)
    return _RENDER_ENV[0]


def _blank_none(value):
    return "" if value is None else value


def safe_file_name(text: str, limit: int = 80) -> str:
    """No path separators or reserved characters, at most ``limit`` characters and 200 bytes."""
    return safe_name(text, limit=limit)


def contract_file_name(number: str, customer_name: str | None, suffix: str = ".docx") -> str:
    return safe_file_name(f"{number} {customer_name or ''}".strip()) + suffix


class _OpenedTemplates:
    """Template packages opened with python-docx once per process, lent to one render at a time.

    Opening the package (python-docx parses every XML part, ~800 KB of styles among them) was a
    third of a render. docxtpl changes the document it renders: it swaps in the rendered body,
    points the header/footer relationships at new parts, writes the core properties and the
    footnotes' bytes. A lent document is taken back only when the render changed nothing else —
    the contract was saved at zip level, so no picture, link, part or relationship was added —
    and after exactly those changes are undone (``_Undo``). Keyed by the template's bytes (a
    digest of the file read at each render), so a changed template file is opened afresh, even
    one rewritten within the same second. A render that fails, or one saved by python-docx, drops
    its document: the next render opens the file again, as every render did before.
    """

    kinds = 4  # distinct template contents kept
    per_kind = 2  # idle copies of one template (two threads rendering the same template at once)

    def __init__(self):
        self._idle: OrderedDict[bytes, list] = OrderedDict()
        self._lock = threading.Lock()
        self.opened = 0  # packages opened by python-docx (tests: proves the cache is used)

    def take(self, digest: bytes, data: bytes):
        with self._lock:
            idle = self._idle.get(digest)
            if idle:
                self._idle.move_to_end(digest)
                return idle.pop()
            self.opened += 1
        return Document(io.BytesIO(data))

    def give_back(self, digest: bytes, document) -> None:
        with self._lock:
            idle = self._idle.setdefault(digest, [])
            self._idle.move_to_end(digest)
            if len(idle) < self.per_kind:
                idle.append(document)
            while len(self._idle) > self.kinds:
                self._idle.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()
            self.opened = 0


_OPENED = _OpenedTemplates()
_NO_BLOB = object()


class _Undo:
    """What a docxtpl render changes in the document it renders, recorded before the render so it can
    be put back afterwards (see ``_OpenedTemplates``). ``None`` from ``of`` when the package has no core
    properties part: python-docx would add one during the render, so that document is not reused."""

    def __init__(self, document, core):
        self.root = document.element
        self.body = self.root.body
        self.part = document.part
        self.targets = {rid: rel._target for rid, rel in self.part.rels.items()}
        self.parts = list(self.part.package.iter_parts())
        self.blobs = {part: part.__dict__.get("_blob", _NO_BLOB) for part in self.parts}
        self.core = core
        self.core_element = copy.deepcopy(core._element)

    @classmethod
    def of(cls, document) -> _Undo | None:
        try:
            core = document.part.package.part_related_by(RT.CORE_PROPERTIES)
        except KeyError:
            return None
        return cls(document, core)

    def apply(self) -> bool:
        """Put the document back as it was opened; False when the render changed what this cannot undo."""
        if set(self.part.rels) != set(self.targets) or self.root.body is None:
            return False
        self.root.replace(self.root.body, self.body)
        for rid, target in self.targets.items():
            self.part.rels[rid]._target = target
        for part, blob in self.blobs.items():
            if blob is _NO_BLOB:
                part.__dict__.pop("_blob", None)
            else:
                part._blob = blob
        self.core._element = self.core_element
        return list(self.part.package.iter_parts()) == self.parts


def render_contract(template: Path, context: dict, out_folder: Path, number: str, customer_name: str) -> Path:
    """Render ``template`` into ``out_folder/<合同编号> <客户名称>.docx``, swapped in atomically.

    The template's package comes opened from ``_OPENED`` when this process rendered the same bytes
    before; the output is the same as from a freshly opened template (tests/test_contracts_cache.py)."""
    data = Path(template).read_bytes()
    digest = hashlib.blake2b(data, digest_size=20).digest()
    doc = _Template(str(template))
    doc.docx = _OPENED.take(digest, data)
    undo = _Undo.of(doc.docx)
    try:
        doc.render(context, jinja_env=render_env(), autoescape=True)
    except jinja2.TemplateError as exc:
        raise _template_error(template, exc) from exc
    dest = Path(out_folder) / contract_file_name(number, customer_name)
    if not _save_at_zip_level(doc, io.BytesIO(data), dest):
        atomic_save(dest, lambda tmp: doc.save(str(tmp)))
    elif undo is not None and undo.apply():
        _OPENED.give_back(digest, doc.docx)
    return dest


def _save_at_zip_level(doc: DocxTemplate, template, dest: Path) -> bool:
    """Save the rendered contract as the template's package with only the parts docxtpl renders written
    anew (the body, headers and footers, footnotes, core properties); styles, numbering, fonts, theme
    and settings are copied as stored — python-docx would serialise every part again (half a render).
    False (nothing written) when the render added or replaced anything (a picture, a link, a sub-document):
    then python-docx saves the whole package."""
    if doc.pics_to_replace or doc.crc_to_new_media or doc.crc_to_new_embedded or doc.zipname_to_replace:
        return False
    try:
        package = doc.docx.part.package
        parts = {part.partname.lstrip("/"): part for part in package.iter_parts()}
        with zipfile.ZipFile(template) as zf:
            stored = {n for n in zf.namelist() if not n.endswith("/")}
            rels = {n for n in stored if n.endswith(".rels")}
            if set(parts) != stored - rels - {"[Content_Types].xml"}:
                return False
            for name, part in parts.items():
                rels_name = zip_package.rels_of(name)
                count = len(etree.fromstring(zf.read(rels_name), zip_package.PARSER)) if rels_name in rels else 0
                if len(part.rels) != count:
                    return False
        rendered = {doc.docx.part, package._core_properties_part}
        rendered |= {rel.target_part for rel in doc.docx.part.rels.values()
                     if not rel.is_external and rel.reltype in (RT.HEADER, RT.FOOTER, RT.FOOTNOTES)}
        changed = {name: part.blob for name, part in parts.items() if part in rendered}
        zip_package.write(template, dest, changed)
    except (zip_package.Unsupported, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return False
    return True


def _template_error(template: Path, exc: jinja2.TemplateError) -> TemplateError:
    near = " ".join(line.strip() for line in getattr(exc, "docx_context", []) if line.strip())
    where = f"{template.name}" + (f",附近文字:{near[:120]}" if near else "")
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(f"合同模板引用了表单中没有的变量({exc.message})。请运行 officeflow contracts lint 查看并修改模板。",
                             code="template-unknown-variable", location=where)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return TemplateError(f"合同模板的标签写法有误({exc.message})。请检查花括号与 if/for 是否成对。",
                             code="template-syntax-error", location=where)
    return TemplateError(f"合同模板无法填充:{exc}", code="template-render-failed", location=where)


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
        conn.execute(s.alerts.insert().values(
            at=store.now(), kind=ALERT_KIND, subject=number, resolved=False,
            message=f"合同 {number}({customer_name or ''})生成失败:{message}。审批结果仍然有效;修改模板后运行 officeflow contracts render {number}。",
        ))
        audit.append(conn, at=store.now(), actor=ACTOR, action="contract-render-failed", subject=number,
                     detail={"error": message, "code": getattr(exc, "code", type(exc).__name__)},
                     file=_relative(settings, reason))


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
