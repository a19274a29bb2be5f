"""`officeflow contracts lint`: find template mistakes before a customer's contract meets them.

Each template in ``contracts/`` is parsed (syntax), its names and the keys it
reads from 客户/公司/卖方/买方 and from 明细 rows are checked against a complete
sample context (misspellings, with a suggestion), then it is rendered twice —
with the complete sample and with every value blank — and the form's fields it
never uses are listed as warnings.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Iterator

import jinja2
from docx import Document
from docx.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import nodes

from automation.act.contract_docx import make_env
from automation.act.contracts import build_context
from automation.act.filters import FILTERS
from automation.forms.spec import CASE_FIELD, FieldSpec, FormSpec
from automation.fsutil import TEMP_PREFIX
from automation.problems import WARNING, Problem
from automation.problems.template import FIELD_UNUSED, RENDER_FAILED, SYNTAX_ERROR, UNKNOWN_VARIABLE

# Fields every form carries for OfficeFlow's own bookkeeping; no contract prints them.
SYSTEM_FIELDS = {CASE_FIELD}
# Fields about the application and its approval rather than the deal: who applied and when, the
# salesperson (staff, not a party), and what steers the approval. A template may print them; it
# is not warned when it does not, so a correct template lints clean.
APPLICATION_FIELDS = frozenset({"申请人", "申请日期", "销售员", "合同类型", "偏离报价", "偏离说明"})
CONTRACT_FORM_MARKER = "合同类型"

SAMPLE_COMPANY = {
    "公司名称": "福州示例贸易有限公司", "地址": "福建省福州市鼓楼区五四路 100 号", "统一社会信用代码": "91350100M000100Y43",
    "法定代表人": "林一", "委托代理人": "陈二", "电话": "0591-87654321", "传真": "0591-87654322",
    "开户行": "中国工商银行福州五四支行", "账号": "1402 0200 0900 1234 567", "签订地点": "福州市鼓楼区",
}
SAMPLE_CUSTOMER = {
    "客户名称": "厦门示例科技有限公司", "统一社会信用代码": "91350200MA2Y8K3L0B", "地址": "福建省厦门市思明区湖滨南路 8 号",
    "法定代表人": "黄三", "联系人": "郑四", "联系电话": "13800138000", "开户行": "中国银行厦门分行", "账号": "4101 2345 6789",
}
SAMPLE_DAY = date(2026, 11, 23)


@dataclass
class LintReport:
    problems: list[Problem] = dc_field(default_factory=list)
    templates: list[str] = dc_field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    def codes(self) -> list[tuple[str, str]]:
        return [(p.location or "", p.code) for p in self.problems]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "templates": self.templates, "problems": [p.to_dict() for p in self.problems]}


def lint_templates(folder: Path, specs, sample_context: dict | None = None, *,
                   bindings: dict[str, str] | None = None) -> LintReport:
    """Lint every ``*.docx`` in ``folder`` against the forms that fill it.

    ``specs``: a FormSpec, a list, or ``{form_id: FormSpec}``. ``bindings`` maps a
    template file name to its form id; otherwise a template belongs to the forms
    that have a 合同类型 field. ``sample_context`` replaces the one built from the spec.
    """
    report = LintReport()
    for path in templates_in(Path(folder)):
        report.templates.append(path.name)
        for spec in _specs_for(path, _as_list(specs), bindings or {}):
            context = sample_context if sample_context is not None else sample_context_for(spec)
            report.problems.extend(lint_template(path, spec, context))
    return report


def templates_in(folder: Path) -> list[Path]:
    """Templates, without Word's lock files (~$…) or our own half-written temporary files."""
    return [p for p in sorted(folder.glob("*.docx")) if not p.name.startswith(("~$", ".~lock", TEMP_PREFIX))]


def lint_template(path: Path, spec: FormSpec | None, context: dict) -> list[Problem]:
    env = make_env()
    try:
        tree = env.parse(template_source(path))
        declared = DocxTemplate(str(path)).get_undeclared_template_variables(jinja_env=env)
    except jinja2.TemplateSyntaxError as exc:
        return [_syntax_problem(path, exc)]
    problems = list(_unknown_names(path, declared, context, env))
    problems += _unknown_keys(path, tree, context)
    if not problems:  # a render would only fail on the same names again
        problems += _render_problems(path, context)
    if spec is not None:
        problems += _unused_fields(path, tree, spec)
    return problems


# --- the template's source, as docxtpl hands it to Jinja ----------------------


def template_source(path: Path) -> str:
    """Body, headers and footers after docxtpl's clean-up, one paragraph per line (for locations)."""
    doc = DocxTemplate(str(path))
    docx = Document(str(path))
    parts = [doc.patch_xml(doc.xml_to_string(docx._element.body))]
    for rel in docx.part.rels.values():
        if rel.reltype in (doc.HEADER_URI, doc.FOOTER_URI):
            parts.append(doc.patch_xml(doc.xml_to_string(parse_xml(rel.target_part.blob))))
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", "\n".join(parts))


def _near(path: Path, lineno: int | None) -> str:
    if not lineno:
        return path.name
    lines = template_source(path).splitlines()
    texts = [re.sub(r"<[^>]+>", "", line).strip() for line in lines[max(lineno - 2, 0): lineno + 1]]
    near = " ".join(t for t in texts if t)
    return f"{path.name},附近文字:{near[:100]}" if near else path.name


# --- checks -------------------------------------------------------------------


def _syntax_problem(path: Path, exc: jinja2.TemplateSyntaxError) -> Problem:
    detail = exc.message or str(exc)
    unknown_filter = re.match(r"No filter named '(.+?)'", detail)
    if unknown_filter:
        detail = f"没有名为「{unknown_filter.group(1)}」的过滤器。{_hint(unknown_filter.group(1), FILTERS)}"
    elif "Unexpected end of template" in detail:
        detail = f"模板结束前缺少结束标签(如 endif、endfor)({detail})"
    return SYNTAX_ERROR(template=path.name, detail=detail, location=_near(path, exc.lineno))


def _hint(name: str, known: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"您是否想写「{match[0]}」?" if match else ""


def _unknown_names(path: Path, declared: set[str], context: dict, env) -> Iterator[Problem]:
    for name in sorted(declared - set(context) - set(env.globals)):
        yield UNKNOWN_VARIABLE(template=path.name, name=name, hint=_hint(name, context), field=name, location=path.name)


def _unknown_keys(path: Path, tree, context: dict) -> Iterator[Problem]:
    """``客户.地扯`` or ``r.品明``: keys of a known dict, or of the rows a for loop walks."""
    for holder, attr, keys in _key_reads(tree, context):
        if attr not in keys:
            name = f"{holder}.{attr}"
            yield UNKNOWN_VARIABLE(template=path.name, name=name, hint=_hint(attr, keys), field=name, location=path.name)


def _key_reads(tree, context: dict) -> Iterator[tuple[str, str, set[str]]]:
    loops = _loop_rows(tree, context)
    for node in tree.find_all(nodes.Getattr):
        if not isinstance(node.node, nodes.Name):
            continue
        base = node.node.name
        if base in loops:
            yield base, node.attr, loops[base]
        elif isinstance(context.get(base), dict):
            yield base, node.attr, set(context[base])


def _loop_rows(tree, context: dict) -> dict[str, set[str]]:
    """Loop variable → the keys its rows have (``{% for r in 明细 %}`` → 品名, 数量…)."""
    loops = {}
    for loop in tree.find_all(nodes.For):
        rows = context.get(loop.iter.name) if isinstance(loop.iter, nodes.Name) else None
        if isinstance(loop.target, nodes.Name) and isinstance(rows, list) and rows and isinstance(rows[0], dict):
            loops[loop.target.name] = set().union(*(row.keys() for row in rows))
    return loops


def _render_problems(path: Path, context: dict) -> list[Problem]:
    problems = []
    for label, ctx in (("完整示例数据", context), ("空白数据", blank_context(context))):
        try:
            DocxTemplate(str(path)).render(ctx, jinja_env=make_env(), autoescape=True)
        # Anything the render raises is the template's fault as far as the lint can tell.
        except Exception as exc:  # noqa: BLE001
            problems.append(RENDER_FAILED(template=path.name, sample=label, detail=str(exc), location=path.name))
    return problems


def _unused_fields(path: Path, tree, spec: FormSpec) -> Iterator[Problem]:
    used = {node.name for node in tree.find_all(nodes.Name)}
    # 合同金额大写 is printed as 合同金额|大写: a 大写 field counts as used with its figure.
    used |= {f.key for f in spec.fields if f.type == "amount_upper" and f.of in used}
    skipped = SYSTEM_FIELDS | APPLICATION_FIELDS | {spec.applicant_field}
    for key in spec.all_keys:
        if key not in used and key not in skipped:
            yield FIELD_UNUSED(template=path.name, form=spec.title, field=key, location=path.name, level=WARNING)


# --- sample data --------------------------------------------------------------


def blank_context(context: dict) -> dict:
    """Every name present, nothing filled: what a form with only its required fields gives at worst."""
    def blank(value):
        if isinstance(value, dict):
            return {k: None for k in value}
        return [] if isinstance(value, list) else None
    return {k: blank(v) for k, v in context.items()}


def sample_context_for(spec: FormSpec | None) -> dict:
    values = sample_values(spec) if spec else {}
    case = {"number": "SQ-2026-0001", "customer": SAMPLE_CUSTOMER["客户名称"]}
    return build_context(case, values, SAMPLE_CUSTOMER, SAMPLE_COMPANY, "HT-2026-0001", SAMPLE_DAY,
                         fields=spec.all_keys if spec else ())


def sample_values(spec: FormSpec) -> dict:
    values = {f.key: sample_value(f) for f in spec.fields}
    for table in spec.tables:
        values[table.key] = [{c.key: sample_value(c) for c in table.columns} for _ in range(2)]
    return values


_SAMPLES = {
    # amount_upper is upper_rmb(money) written out (a test keeps them equal): no cn2an import at every start
    "integer": 30, "number": Decimal("2"), "money": Decimal("12345.60"), "amount_upper": "壹万贰仟叁佰肆拾伍元陆角整",
    "date": SAMPLE_DAY, "date_list": [SAMPLE_DAY], "percent": Decimal("0.05"), "phone": "13800138000",
    "credit_code": SAMPLE_CUSTOMER["统一社会信用代码"], "id_number": "11010519491231002X", "person": "张三",
    "customer": SAMPLE_CUSTOMER["客户名称"],
}


def sample_value(f: FieldSpec):
    if f.type == "choice":
        return f.choices[0]
    return _SAMPLES.get(f.type, f"示例{f.key}")


def _as_list(specs) -> list[FormSpec]:
    if specs is None:
        return []
    if isinstance(specs, FormSpec):
        return [specs]
    return list(specs.values()) if isinstance(specs, dict) else list(specs)


def _specs_for(path: Path, specs: list[FormSpec], bindings: dict[str, str]) -> list[FormSpec | None]:
    if path.name in bindings:
        return [s for s in specs if s.id == bindings[path.name]] or [None]
    contract_forms = [s for s in specs if s.field(CONTRACT_FORM_MARKER)]
    return contract_forms or specs or [None]
