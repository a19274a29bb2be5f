"""Form specifications: ``forms/<form_id>.yaml`` → immutable ``FormSpec``.

A spec is checked once, when it is loaded; a mistake is refused with the file
and line, so the administrator never meets it later in front of a form.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from automation.errors import SpecError
from automation.forms.register_spec import RegisterSpec, parse_register

FIELD_TYPES = {
    "text": "文本",
    "integer": "整数",
    "number": "数值",
    "money": "金额",
    "amount_upper": "大写金额",
    "date": "日期",
    "date_list": "日期列表",
    "choice": "选项",
    "phone": "电话",
    "credit_code": "统一社会信用代码",
    "id_number": "身份证号",
    "percent": "百分比",
    "person": "人员",
    "customer": "客户",
}
FILE_KINDS = ("xlsx", "docx")
# Every form carries the case number so that a form returned for changes and
# submitted again continues its case (OfficeFlow fills it in; staff leave it).
CASE_FIELD = "申请编号"


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    key: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    min: Any = None
    max: Any = None
    pattern: str | None = None
    max_length: int | None = None
    of: str | None = None  # amount_upper: the money field it must read the same as
    width: int = 1  # Excel layout: how many input columns the cell spans
    multiline: bool = False
    compute: str | None = None  # a policy expression giving the value when the field is left blank
    line: int = 0  # where it was declared, for messages

    @property
    def type_label(self) -> str:
        return FIELD_TYPES[self.type]


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    key: str  # "明细"
    label: str
    columns: tuple[FieldSpec, ...]
    required: bool = False
    rows: int = 10  # blank rows in the built form
    after: str | None = None  # layout: the field the table follows; None = after every field
    line: int = 0

    def column(self, key: str) -> FieldSpec | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass(frozen=True, kw_only=True)
class FormSpec:
    id: str
    title: str
    version: str
    accepted_versions: tuple[str, ...]
    kind: str
    fields: tuple[FieldSpec, ...]
    tables: tuple[TableSpec, ...] = ()
    applicant_field: str = "申请人"
    amount_field: str | None = None
    department_field: str | None = None
    customer_field: str | None = None
    description: str = ""
    code: str | None = None  # numbering code used when 编号规则 has no row for this form
    summary_fields: tuple[str, ...] = ()  # 摘要字段: what an approver sees first (审批 sheet, task file)
    register: RegisterSpec | None = None  # the form's own register (台账), recorded by the generic effect
    example: tuple[tuple[str, Any], ...] = ()  # sample values `officeflow demo` fills in ("=…" is a formula)
    path: Path | None = None

    @property
    def summary_keys(self) -> tuple[str, ...]:
        """The declared 摘要字段, else applicant, department, customer, amounts and dates."""
        if self.summary_fields:
            return self.summary_fields
        picked = [self.applicant_field, self.department_field, self.customer_field, self.amount_field]
        picked += [f.key for f in self.fields if f.type in ("money", "date") and f.key != CASE_FIELD]
        return tuple(dict.fromkeys(k for k in picked if k and self.field(k)))

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)

    def table(self, key: str) -> TableSpec | None:
        return next((t for t in self.tables if t.key == key), None)

    def layout(self) -> list[FieldSpec | TableSpec]:
        """Fields in declared order, each table placed after the field it follows."""
        items: list[FieldSpec | TableSpec] = []
        for f in self.fields:
            items.append(f)
            items.extend(t for t in self.tables if t.after == f.key)
        items.extend(t for t in self.tables if not t.after)
        return items

    @property
    def all_keys(self) -> list[str]:
        """Every name a form of this spec provides: field keys and table keys."""
        return [f.key for f in self.fields] + [t.key for t in self.tables]

    def accepts(self, version: str | None) -> bool:
        return version is None or str(version) in (self.version, *self.accepted_versions)

    @property
    def file_name(self) -> str:
        return f"{self.title}.{self.kind}"

    @property
    def edition_label(self) -> str:
        """What staff read on a printed form: 「销售合同审批表 · 第 1 版」 (never the form id)."""
        version = str(self.version)
        shown = version[:-2] if version.endswith(".0") else version
        return f"{self.title} · 第 {shown} 版"


# --- loading ---------------------------------------------------------------


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that remembers the line of every mapping, for error messages (libyaml's
    parser when PyYAML has it: every runtime loads every spec, and it is several times faster)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    keys = [loader.construct_object(k) for k, _ in node.value]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise SpecError(f"同一层中重复的键:{'、'.join(map(str, dupes))}", location=f"第 {node.start_mark.line + 1} 行")
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _where(path: Path, line: int) -> str:
    return f"{path.name} 第 {line} 行"


# Keys become Excel defined names and table names, so they must obey Excel's
# rules: start with a letter or _, no spaces or punctuation, and never read as
# a cell reference (A1 style up to column XFD, or R1C1 style).
_NAME_RE = re.compile(r"^[^\W\d][\w.]*$")
_A1_RE = re.compile(r"^[A-Za-z]{1,3}\d+$")
_R1C1_RE = re.compile(r"^[Rr]\d*([Cc]\d*)?$|^[Cc]\d*$")


def name_problem(key: str) -> str | None:
    """Why ``key`` cannot be an Excel defined name, or None when it can."""
    if not _NAME_RE.match(key) or len(key) > 255:
        return "只能由汉字、字母、数字、下划线和点组成,不能以数字开头,也不能含空格"
    if _A1_RE.match(key) or _R1C1_RE.match(key):
        return "看起来像单元格地址(如 A1、R1C1),Excel 会把它当作地址"
    if key.upper() in ("TRUE", "FALSE"):
        return "是 Excel 的保留字"
    return None


def _check_names(path: Path, items: list) -> None:
    for item in items:
        why = name_problem(item.key)
        if why:
            raise SpecError(f"「{item.key}」不能用作字段名:{why}。请换一个名称。", location=_where(path, item.line))


def _field(path: Path, raw: Any, scope: str) -> FieldSpec:
    if not isinstance(raw, dict) or "key" not in raw:
        line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        raise SpecError(f"{scope}中的每一项都需要 key(字段名)。", location=_where(path, line))
    line = raw["__line__"]
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        hint = difflib.get_close_matches(str(ftype), FIELD_TYPES, n=1)
        tip = f"您是否想写「{hint[0]}」?" if hint else f"可用类型:{'、'.join(FIELD_TYPES)}。"
        raise SpecError(f"字段「{raw['key']}」的类型「{ftype}」不存在。{tip}", location=_where(path, line))
    choices = tuple(str(c) for c in raw.get("choices", ()) or ())
    if ftype == "choice" and not choices:
        raise SpecError(f"选项字段「{raw['key']}」的 choices 不能为空。", location=_where(path, line))
    if any("," in c for c in choices):
        # Excel keeps a drop-down list as one comma-separated string.
        raise SpecError(f"字段「{raw['key']}」的选项中不能含英文逗号。", location=_where(path, line))
    if "choices" in raw and not choices:
        raise SpecError(f"字段「{raw['key']}」的 choices 为空列表。", location=_where(path, line))
    pattern = raw.get("pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SpecError(f"字段「{raw['key']}」的 pattern 不是有效的正则表达式:{exc}", location=_where(path, line)) from exc
    known = {"key", "label", "type", "required", "help", "choices", "min", "max", "pattern", "max_length", "of", "width",
             "multiline", "compute", "__line__"}
    unknown = set(raw) - known
    if unknown:
        raise SpecError(f"字段「{raw['key']}」含未知属性:{'、'.join(sorted(unknown))}。", location=_where(path, line))
    return FieldSpec(
        key=str(raw["key"]),
        label=str(raw.get("label", raw["key"])),
        type=ftype,
        required=bool(raw.get("required", False)),
        help=str(raw.get("help", "")),
        choices=choices,
        min=raw.get("min"),
        max=raw.get("max"),
        pattern=pattern,
        max_length=raw.get("max_length"),
        of=raw.get("of"),
        width=int(raw.get("width", 1)),
        multiline=bool(raw.get("multiline", False)),
        compute=str(raw["compute"]) if raw.get("compute") not in (None, "") else None,
        line=line,
    )


def _unique(path: Path, items: list, what: str) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if item.key in seen:
            raise SpecError(f"{what}「{item.key}」重复定义(第 {seen[item.key]} 行已定义)。", location=_where(path, item.line))
        seen[item.key] = item.line


def _table(path: Path, t: Any) -> TableSpec:
    if not isinstance(t, dict) or "key" not in t:
        line = t.get("__line__", 0) if isinstance(t, dict) else 0
        raise SpecError("tables 中的每一项都需要 key(明细名)。", location=_where(path, line))
    unknown = set(t) - {"key", "label", "required", "rows", "after", "columns", "__line__"}
    if unknown:
        raise SpecError(f"明细「{t['key']}」含未知属性:{'、'.join(sorted(unknown))}。", location=_where(path, t["__line__"]))
    cols = [_field(path, c, f"明细「{t['key']}」的 columns") for c in t.get("columns", []) or []]
    if not cols:
        raise SpecError(f"明细「{t['key']}」没有列。", location=_where(path, t["__line__"]))
    _unique(path, cols, "列")
    return TableSpec(key=str(t["key"]), label=str(t.get("label", t["key"])), columns=tuple(cols),
                     required=bool(t.get("required", False)), rows=int(t.get("rows", 10)),
                     after=t.get("after"), line=t["__line__"])


def _summary_fields(path: Path, raw: dict, keys: set[str]) -> tuple[str, ...]:
    """摘要字段 has one key, summary_fields; a spec from before it may still say summary (not both)."""
    if "summary_fields" in raw and "summary" in raw:
        raise SpecError("摘要字段只能写一次:请只保留 summary_fields,删除 summary。", location=_where(path, raw["__line__"]))
    names = tuple(str(k) for k in raw.get("summary_fields", raw.get("summary")) or [])
    for name in names:
        if name not in keys:
            raise SpecError(f"摘要字段(summary_fields)中的「{name}」不在 fields 中。", location=_where(path, raw["__line__"]))
    return names


def _example(path: Path, raw: dict, keys: set[str]) -> tuple[tuple[str, Any], ...]:
    example = raw.get("example") or {}
    if not isinstance(example, dict):
        raise SpecError("example 应写成 字段名: 值 的形式。", location=_where(path, raw["__line__"]))
    pairs = tuple((str(k), v) for k, v in example.items() if k != "__line__")
    for key, _ in pairs:
        if key not in keys:
            raise SpecError(f"示例(example)中的「{key}」不在 fields 中。", location=_where(path, example["__line__"]))
    return pairs


def load_spec(path: Path | str) -> FormSpec:
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except SpecError as exc:
        raise SpecError(exc.message, location=f"{path.name} {exc.location}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise SpecError(f"YAML 格式错误:{getattr(exc, 'problem', exc)}", location=_where(path, line)) from exc
    if not isinstance(raw, dict):
        raise SpecError("表单规格应是一个映射(键: 值)。", location=_where(path, 1))
    for key in ("id", "title", "version", "kind", "fields"):
        if key not in raw:
            raise SpecError(f"缺少必需的键「{key}」。", location=_where(path, raw.get("__line__", 1)))
    if raw["kind"] not in FILE_KINDS:
        raise SpecError(f"kind 只能是 xlsx 或 docx,现为「{raw['kind']}」。", location=_where(path, raw["__line__"]))
    fields = [_field(path, f, "fields") for f in raw["fields"] or []]
    tables = [_table(path, t) for t in raw.get("tables", []) or []]
    _unique(path, [*fields, *tables], "字段")
    _check_names(path, [*fields, *tables])
    keys = {f.key for f in fields}
    for t in tables:
        if t.after and t.after not in keys:
            raise SpecError(f"明细「{t.key}」的 after 指向的字段「{t.after}」不存在。", location=_where(path, t.line))
    for f in fields:
        if f.type == "amount_upper" and f.of and f.of not in keys:
            raise SpecError(f"大写金额「{f.key}」对应的字段「{f.of}」不存在。", location=_where(path, f.line))
    spec = FormSpec(
        id=str(raw["id"]),
        title=str(raw["title"]),
        version=str(raw["version"]),
        accepted_versions=tuple(str(v) for v in raw.get("accepted_versions", []) or []),
        kind=raw["kind"],
        fields=tuple(fields),
        tables=tuple(tables),
        applicant_field=str(raw.get("applicant_field", "申请人")),
        amount_field=raw.get("amount_field"),
        department_field=raw.get("department_field"),
        customer_field=raw.get("customer_field"),
        description=str(raw.get("description", "")),
        code=str(raw["code"]) if raw.get("code") not in (None, "") else None,
        summary_fields=_summary_fields(path, raw, keys),
        example=_example(path, raw, keys),
        register=parse_register(path, raw["register"], {f.key: f for f in fields}) if raw.get("register") else None,
        path=path,
    )
    for attr in ("applicant_field", "amount_field", "department_field", "customer_field"):
        name = getattr(spec, attr)
        if name and name not in keys:
            raise SpecError(f"{attr} 指向的字段「{name}」不存在。", location=_where(path, raw["__line__"]))
    if path.stem != spec.id:
        raise SpecError(f"文件名应与 id 一致:{spec.id}.yaml。", location=_where(path, raw["__line__"]))
    return spec


def load_specs(folder: Path | str) -> dict[str, FormSpec]:
    """Every ``*.yaml`` in the folder, keyed by form id."""
    specs: dict[str, FormSpec] = {}
    registers: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        spec = load_spec(path)
        if spec.register and spec.register.name in registers:
            raise SpecError(f"台账「{spec.register.name}」已由 {registers[spec.register.name]} 使用,每种表单的台账名称须不同。",
                            location=path.name)
        if spec.register:
            registers[spec.register.name] = path.name
        specs[spec.id] = spec
    return specs
