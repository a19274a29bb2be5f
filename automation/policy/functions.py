"""The functions a policy condition may call, with Chinese names and documentation.

Every function is registered once with its argument list and a one-line
explanation; the 说明 sheet and ``policy check`` read the same registry, so a
function cannot exist without being documented. Functions receive blanks
(``None``) gracefully: a blank argument gives a blank or "no" answer, never an
error.
"""

from __future__ import annotations

import calendar as _calendar
import inspect
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any, Callable, Mapping

from automation.forms.parsers import upper_to_decimal
from automation.policy.lookups import Lookups, NoLookups
from automation.policy.workcal import WorkCalendar


@dataclass
class Context:
    """What a function may use besides its arguments."""

    today: date
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    lookups: Lookups = field(default_factory=NoLookups)
    params: Mapping[str, Any] = field(default_factory=dict)
    roles_of: Callable[[str], tuple[str, ...]] = lambda name: ()
    hired_on: Callable[[str], date | None] = lambda name: None  # 人员 sheet: 入职日期


@dataclass(frozen=True)
class Function:
    name: str
    args: str
    doc: str
    example: str
    impl: Callable[..., Any]

    @property
    def arity(self) -> tuple[int, int | None]:
        """(fewest, most) arguments; most is None for a variadic function."""
        params = list(inspect.signature(self.impl).parameters.values())[1:]
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            return len(params) - 1, None
        return sum(p.default is p.empty for p in params), len(params)


FUNCTIONS: dict[str, Function] = {}


def register(name: str, args: str, doc: str, example: str):
    def wrap(impl: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = Function(name, args, doc, example, impl)
        return impl

    return wrap


def bind(ctx: Context) -> dict[str, Callable[..., Any]]:
    """The functions for one evaluation, each bound to its context."""
    return {name: partial(fn.impl, ctx) for name, fn in FUNCTIONS.items()}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, tuple)) and not value)


# --- general -------------------------------------------------------------------


@register("已填", "(值)", "值不为空时为真。", "已填(特殊条款)")
def filled(ctx: Context, value: Any) -> bool:
    return not _blank(value)


@register("未填", "(值)", "值为空时为真。", "未填(偏离说明)")
def blank(ctx: Context, value: Any) -> bool:
    return _blank(value)


@register("今天", "()", "今天的日期。", "交货日期 < 今天()")
def today(ctx: Context) -> date:
    return ctx.today


@register("舍入", "(数值, 位数)", "四舍五入到指定小数位(金额用 2 位,即到分)。", "金额 != 舍入(数量 * 单价, 2)")
def round_to(ctx: Context, value: Any, places: Any = 2) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


@register("具有角色", "(姓名, 角色, …)", "人员表中此人担任其中任一角色时为真。", '具有角色(调查人, "部门经理")')
def has_role(ctx: Context, name: Any, *roles: str) -> bool:
    return name is not None and bool(set(ctx.roles_of(str(name))) & set(roles))


# --- working days --------------------------------------------------------------


@register("工作日加", "(日期, 天数)", "日期之后第 n 个工作日(按国家法定节假日、调休和节假日表)。",
          "报销日期 > 工作日加(发生日期, 报销时限工作日)")
def add_workdays(ctx: Context, day: date | None, n: Any) -> date | None:
    if day is None or n is None:
        return None
    return ctx.calendar.add_workdays(day, int(n))


@register("工作日数", "(起, 止)", "起日期之后到止日期(含)之间的工作日数。", "工作日数(签订日期, 交货日期) > 30")
def count_workdays(ctx: Context, start: date | None, end: date | None) -> int | None:
    if start is None or end is None:
        return None
    return ctx.calendar.workdays_between(start, end)


# --- line items ------------------------------------------------------------------


def _lines(items: Any) -> list[dict]:
    return [line for line in (items or []) if isinstance(line, dict)]


@register("合计", "(明细, 列)", "明细中某列的合计(空白按 0)。", '合同金额 != 合计(明细, "金额")')
def total(ctx: Context, items: Any, column: str) -> Decimal:
    return sum((Decimal(line[column]) for line in _lines(items) if line.get(column) is not None), Decimal(0))


@register("分类合计", "(明细, 列, 条件列, 值)", "明细中条件列等于值的行,某列的合计。",
          '分类合计(明细, "金额", "费用类别", "通讯")')
def total_where(ctx: Context, items: Any, column: str, key: str, value: Any) -> Decimal:
    return total(ctx, [line for line in _lines(items) if line.get(key) == value], column)


@register("任一", "(明细, 列, 值)", "明细中有任一行的该列等于值时为真。", '任一(明细, "费用类别", "招待")')
def any_line(ctx: Context, items: Any, column: str, value: Any) -> bool:
    return any(line.get(column) == value for line in _lines(items))


@register("行数", "(明细或列表)", "明细的行数,或日期列表中的日期个数(空白为 0)。", "行数(回访日期) < 2")
def count(ctx: Context, items: Any) -> int:
    return len(items) if isinstance(items, (list, tuple)) else 0


# --- amounts in words ----------------------------------------------------------------

def parse_upper(text: Any) -> Decimal | None:
    """``人民币壹万零伍拾元零伍分`` → Decimal('10050.05'); None when it is not an amount in words."""
    return upper_to_decimal(text)


@register("大写一致", "(大写, 金额)", "中文大写金额与数字金额一致时为真。", "not 大写一致(合同金额大写, 合同金额)")
def upper_matches(ctx: Context, words: Any, amount: Any) -> bool:
    if words is None or amount is None:
        return False
    # A form's 大写 field arrives already parsed (Decimal); a literal in a rule arrives as text.
    parsed = words if isinstance(words, Decimal) else parse_upper(str(words))
    return parsed is not None and parsed == Decimal(amount).quantize(Decimal("0.01"))


# --- register look-ups -----------------------------------------------------------------


@register("客户已登记", "(客户名称)", "客户已在客户台账中登记时为真。", "not 客户已登记(客户名称)")
def customer_registered(ctx: Context, name: Any) -> bool:
    return name is not None and ctx.lookups.customer_registered(str(name))


@register("客户状态", "(客户名称[, 信用代码])",
          "客户台账中的状态,如 正常、黑名单、停用;按名称或统一社会信用代码找到客户,未登记为空。",
          '客户状态(客户名称, 统一社会信用代码) == "黑名单"')
def customer_status(ctx: Context, name: Any, credit_code: Any = None) -> str | None:
    found = None if name is None else ctx.lookups.customer_status(str(name))
    if found is None and credit_code not in (None, ""):
        found = ctx.lookups.customer_status_by_code(str(credit_code))
    return found


@register("客户评级", "(客户名称)", "客户台账中的客户等级(A/B/C);未登记为空。", '客户评级(客户名称) == "A"')
def customer_grade(ctx: Context, name: Any) -> str | None:
    return None if name is None else ctx.lookups.customer_grade(str(name))


@register("客户信用额度", "(客户名称)", "客户的信用额度;没有额度的客户为 0。", "合同金额 > 客户信用额度(客户名称)")
def customer_credit_limit(ctx: Context, name: Any) -> Decimal:
    return Decimal(0) if name is None else ctx.lookups.customer_credit_limit(str(name))


@register("客户未收款", "(客户名称)", "客户全部未收款(账期合同减去回款、退货和核销)。", "客户未收款(客户名称) + 合同金额 > 客户信用额度(客户名称)")
def customer_receivables(ctx: Context, name: Any) -> Decimal:
    return Decimal(0) if name is None else ctx.lookups.customer_open_receivables(str(name))


@register("客户冲突", "(客户名称, 信用代码, 销售员)",
          "同一客户(信用代码相同,或去掉空格、全角和“有限公司”等后缀后名称相同)在客户保护天数内由其他销售员跟进时为真。",
          "客户冲突(客户名称, 统一社会信用代码, 销售员)")
def customer_conflict(ctx: Context, name: Any, credit_code: Any, salesperson: Any) -> bool:
    return _holder(ctx, name, credit_code, salesperson) is not None


@register("客户持有部门", "(客户名称, 信用代码, 销售员)",
          "客户交叉时,现在跟进该客户的销售员所在部门;没有冲突为空。用于「部门取自」,让对方部门经理也参与界定。",
          "客户持有部门(客户名称, 统一社会信用代码, 销售员)")
def customer_holder_department(ctx: Context, name: Any, credit_code: Any, salesperson: Any) -> str | None:
    holder = _holder(ctx, name, credit_code, salesperson)
    return holder["department"] if holder else None


@register("客户持有情况", "(客户名称, 信用代码, 销售员)",
          "客户交叉时的说明:现由谁(哪个部门)跟进、何时登记、最近活动日期;没有冲突为空。可写在提示中:{客户持有情况(…)}。",
          "客户持有情况(客户名称, 统一社会信用代码, 销售员)")
def customer_holder_text(ctx: Context, name: Any, credit_code: Any, salesperson: Any) -> str | None:
    holder = _holder(ctx, name, credit_code, salesperson)
    if holder is None:
        return None
    department = f"({holder['department']})" if holder["department"] else ""
    since = f",{holder['registered_on']:%Y-%m-%d} 起跟进" if holder["registered_on"] else ""
    active = f",最近活动 {holder['last_active_on']:%Y-%m-%d}" if holder["last_active_on"] else ""
    return f"{holder['owner']}{department}{since}{active}"


def _holder(ctx: Context, name: Any, credit_code: Any, salesperson: Any) -> dict | None:
    if name is None and credit_code is None:
        return None
    since = ctx.today - timedelta(days=int(ctx.params.get("客户保护天数", 180)))
    return ctx.lookups.customer_holder(
        None if name is None else str(name), None if credit_code is None else str(credit_code),
        None if salesperson is None else str(salesperson), since)


@register("部门本月费用", "(部门, 类别, 日期)", "部门在该日期所在月份某费用类别的报销合计(审批中和已批准,不含已驳回)。",
          '部门本月费用(部门, "通讯", 报销日期) > 办公电话月限额')
def department_month_expenses(ctx: Context, department: Any, category: Any, day: Any) -> Decimal:
    if department is None or category is None or day is None:
        return Decimal(0)
    return ctx.lookups.department_month_expenses(str(department), str(category), day)


@register("出差单有效", "(出差申请单号, 日期)", "该出差申请已批准且出差日期覆盖该日期时为真。", "not 出差单有效(出差申请单号, 发生日期)")
def trip_valid(ctx: Context, number: Any, day: Any) -> bool:
    return number is not None and day is not None and ctx.lookups.trip_valid(str(number), day)


@register("合同存在", "(合同编号, 客户名称)", "合同存在且属于该客户时为真。", "not 合同存在(原合同编号, 客户名称)")
def contract_exists(ctx: Context, number: Any, customer: Any) -> bool:
    return number is not None and ctx.lookups.contract_exists(str(number), None if customer is None else str(customer))


@register("合同可退数量", "(合同编号, 品名)", "合同数量减去已退数量;品名不在合同上时为空。", "退货数量 > 合同可退数量(原合同编号, 品名)")
def contract_returnable(ctx: Context, number: Any, product: Any) -> Decimal | None:
    if number is None or product is None:
        return None
    return ctx.lookups.contract_returnable(str(number), str(product))


@register("合同未收款", "(合同编号)", "该合同的未收款。", "核销金额 > 合同未收款(原合同编号)")
def contract_receivable(ctx: Context, number: Any) -> Decimal:
    return Decimal(0) if number is None else ctx.lookups.contract_open_receivable(str(number))


# --- dates, service years, loans (请假、借款、用印 and similar forms) ---------------------


@register("工作日天数", "(起, 止)", "起止日期之间(含首尾两天)的工作日天数,如请假天数。", "天数 != 工作日天数(开始日期, 结束日期)")
def workdays_inclusive(ctx: Context, start: date | None, end: date | None) -> int | None:
    if start is None or end is None:
        return None
    return ctx.calendar.workdays_between(start - timedelta(days=1), end)


@register("日历天数", "(起, 止)", "起止日期之间(含首尾两天)的自然日天数。", '假别 == "婚假" and 日历天数(开始日期, 结束日期) > 婚假天数')
def calendar_days(ctx: Context, start: date | None, end: date | None) -> int | None:
    if start is None or end is None:
        return None
    return (end - start).days + 1


@register("月份加", "(日期, 月数)", "日期之后若干个月的同一天(月末顺延到该月最后一天);月数可为负。",
          "预计还款日期 > 月份加(借款日期, 1)")
def add_months(ctx: Context, day: date | None, months: Any) -> date | None:
    if day is None or months is None:
        return None
    index = day.year * 12 + day.month - 1 + int(months)
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _calendar.monthrange(year, month + 1)[1]))


@register("月份", "(日期)", "日期所在的月份,写成 2026-11。", "月份(开始日期)")
def month_of(ctx: Context, day: date | None) -> str | None:
    return None if day is None else f"{day:%Y-%m}"


@register("工龄", "(姓名, 日期)", "此人到该日期为止的整年工龄(按人员表的入职日期);没有入职日期时为空。",
          '假别 == "年假" and 工龄(申请人, 开始日期) < 3')
def service_years(ctx: Context, name: Any, day: date | None) -> int | None:
    hired = ctx.hired_on(str(name)) if name is not None else None
    if hired is None or day is None:
        return None
    return day.year - hired.year - ((day.month, day.day) < (hired.month, hired.day))


@register("出差单已批准", "(出差申请单号)", "该出差申请已批准时为真(不论日期)。", '借款类型 == "差旅预借" and not 出差单已批准(出差申请单号)')
def trip_approved(ctx: Context, number: Any) -> bool:
    return number is not None and ctx.lookups.trip_approved(str(number))


@register("借款未还", "(借款单号)", "已批准借款尚未冲销的金额;没有这笔借款时为空。", "已填(借款单号) and 未填(借款未还(借款单号))")
def loan_outstanding(ctx: Context, number: Any) -> Decimal | None:
    return None if number is None else ctx.lookups.loan_outstanding(str(number))


@register("借款单借款人", "(借款单号)", "已批准借款的借款人;没有这笔借款时为空。",
          "已填(借款单号) and 已填(借款单借款人(借款单号)) and 借款单借款人(借款单号) != 报销人")
def loan_borrower(ctx: Context, number: Any) -> str | None:
    return None if number is None else ctx.lookups.loan_borrower(str(number))


@register("年内合计", "(表单, 字段, 姓名, 日期字段, 日期, 筛选字段, 筛选值)",
          "此人在「日期」所在年份内提交的某种表单(审批中或已批准)中某字段的合计,按「日期字段」判断年份;"
          "可再按一个字段的值筛选。用于按年计算的额度,如本年已申请的假期天数。",
          '天数 + 年内合计("会议室预订单", "时长", 申请人, "会议日期", 会议日期) > 每年时长上限')
def year_total(ctx: Context, form: Any, field: Any, name: Any, date_field: Any, day: date | None,
               filter_field: Any = None, filter_value: Any = None) -> Decimal:
    if not form or not field or not name or not date_field or not isinstance(day, date):
        return Decimal(0)
    where = (str(filter_field), filter_value) if filter_field else None
    return ctx.lookups.year_total(str(form), str(field), str(name), str(date_field), day.year, where)


@register("合同已批准", "(合同编号)", "该合同已批准(在合同台账中)时为真,不论客户。", '印章类型 == "合同专用章" and not 合同已批准(关联合同编号)')
def contract_approved(ctx: Context, number: Any) -> bool:
    return number is not None and ctx.lookups.contract_exists(str(number), None)
