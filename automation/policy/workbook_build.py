"""Write the default pack into ``制度.xlsx``: one Excel table per sheet, drop-downs, a 说明 sheet.

Run ``python -m automation.policy.workbook_build [DEST]`` to regenerate
``policies/制度.xlsx``. The file is written to a temporary name and swapped in,
so a half-written workbook never replaces a good one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from automation.fsutil import atomic_save
from automation.policy import pack
from automation.policy.functions import FUNCTIONS
from automation.printing import lines_needed, row_height, setup_openpyxl

LIST_ROWS = 500  # drop-downs cover this many rows so new rows get them too
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

# sheet → (table name, headers, rows)
SHEETS = {
    "人员": ("People", pack.PEOPLE_HEADERS, pack.PEOPLE),
    "角色": ("Roles", pack.ROLE_HEADERS, pack.ROLES),
    "审批规则": ("ApprovalRules", pack.APPROVAL_HEADERS, pack.APPROVALS),
    "校验规则": ("CheckRules", pack.CHECK_HEADERS, pack.CHECKS),
    "抄送": ("CarbonCopies", pack.CC_HEADERS, pack.CCS),
    "参数": ("Parameters", pack.PARAM_HEADERS, pack.PARAMS),
    "节假日": ("Holidays", pack.HOLIDAY_HEADERS, pack.HOLIDAYS),
    "编号规则": ("Numbering", pack.NUMBERING_HEADERS, pack.NUMBERING),
    "公司信息": ("Company", pack.COMPANY_HEADERS, pack.COMPANY),
    "合同模板": ("ContractTemplates", pack.TEMPLATE_HEADERS, pack.TEMPLATES),
}

ROLE_LIST = "'角色'!$A$2:$A$200"
# (sheet, header) → (formula or literal list, strict?). 表单 only suggests the shipped forms:
# an administrator adding a form of their own types its name there.
DROP_DOWNS = {
    ("人员", "角色"): (ROLE_LIST, False),  # several roles are joined with 、, so only a suggestion
    ("人员", "在职"): ('"是,否"', True),
    ("审批规则", "表单"): (f'"{",".join(pack.FORM_TITLES)}"', False),
    ("审批规则", "审批角色"): (ROLE_LIST, True),
    ("审批规则", "方式"): ('"依次,会签,或签"', True),
    ("校验规则", "表单"): (f'"{",".join(pack.FORM_TITLES)}"', False),
    ("校验规则", "范围"): ('"表单,明细"', True),
    ("校验规则", "级别"): ('"错误,警告"', True),
    ("抄送", "表单"): (f'"{",".join(pack.FORM_TITLES)}"', False),
    ("抄送", "角色"): (ROLE_LIST, True),
    ("抄送", "时机"): ('"提交时,通过后,两者"', True),
    ("节假日", "类型"): ('"休息日,工作日"', True),
    ("参数", "类型"): ('"金额,数量,比例,工作日,天数,文本,是/否"', True),
    ("编号规则", "表单"): (f'"{",".join(pack.FORM_TITLES)}"', False),
    ("合同模板", "表单"): (f'"{",".join(pack.FORM_TITLES)}"', False),
}
DATE_HEADERS = {"代理开始", "代理结束", "日期", "入职日期"}


def build_policy_workbook(dest: Path) -> Path:
    dest = Path(dest)
    wb = Workbook()
    _write_guide(wb.active)
    for sheet, (table, headers, rows) in SHEETS.items():
        _write_table(wb.create_sheet(sheet), table, headers, rows)
    _save_atomically(wb, dest)
    return dest


def _write_table(ws: Worksheet, table: str, headers: tuple, rows: list) -> None:
    ws.append(list(headers))
    for row in rows:
        ws.append([_cell_value(v) for v in row])
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        if header in DATE_HEADERS:
            for r in range(2, LIST_ROWS + 2):
                ws.cell(row=r, column=col).number_format = "yyyy-mm-dd"
    last = f"{get_column_letter(len(headers))}{max(len(rows), 1) + 1}"
    tab = Table(displayName=table, ref=f"A1:{last}")
    tab.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(tab)
    ws.freeze_panes = "A2"
    _set_widths(ws, headers, rows)
    _add_drop_downs(ws, headers)
    setup_openpyxl(ws, landscape=True, title_rows="1:1")  # A4, one page wide, the header on every page


def _cell_value(value):
    # a condition such as "= 是" must stay text: openpyxl would store it as a formula
    if isinstance(value, str) and value.startswith("="):
        return " " + value
    return value


def _text_width(value) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _set_widths(ws: Worksheet, headers: tuple, rows: list) -> None:
    for col, header in enumerate(headers, start=1):
        # trailing optional columns (such as 审批规则!顺序) may be left out of a row
        widest = max([_text_width(header), *(_text_width(r[col - 1]) for r in rows if col <= len(r))])
        ws.column_dimensions[get_column_letter(col)].width = min(max(widest + 2, 10), 70)


def _add_drop_downs(ws: Worksheet, headers: tuple) -> None:
    for col, header in enumerate(headers, start=1):
        spec = DROP_DOWNS.get((ws.title, header))
        if not spec:
            continue
        formula, strict = spec
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=strict)
        dv.error, dv.errorTitle = f"请从下拉列表中选择「{header}」。", "输入无效"
        dv.prompt, dv.promptTitle = f"请选择{header}" + ("" if strict else ";多个角色用“、”分隔"), header
        letter = get_column_letter(col)
        dv.add(f"{letter}2:{letter}{LIST_ROWS + 1}")
        ws.add_data_validation(dv)


# --- 说明 ------------------------------------------------------------------------

GUIDE = [
    ("制度.xlsx 使用说明", ""),
    ("", "本工作簿由办公室管理员在 Excel 中维护,OfficeFlow 读取它来校验表单、安排审批。修改后保存即可生效;"
         "如有写错,OfficeFlow 会拒绝新版本、继续使用上一份正确的制度,并在「制度.检查结果.txt」中指出哪一格有问题。"
         "也可以运行 officeflow policy check 自行检查。"),
    ("各工作表", ""),
    ("人员", "每人一行:姓名、工号、部门、角色(多个用“、”分隔)、直属上级(须是本表中的姓名,总经理可空)、"
           "代理人及代理开始/结束日期(出差、休假期间由代理人审批)、邮箱、在职(是/否;离职人员不再分配审批)、入职日期(按工龄核对年假天数)。"),
    ("角色", "角色名称与排序。审批链按排序从小到大排列;排序为空的角色不参与审批(如 销售员、销售内勤)。"),
    ("审批规则", "每行:表单、条件、审批角色、方式(依次/会签/或签)、时限工作日、依据、顺序。条件成立的每一行都加入其角色;"
             "同一角色只出现一次,按角色排序排列。条件留空表示总是需要。同一角色多行时取最短时限、第一行的方式。"
             "时限工作日留空时使用参数「审批时限工作日」。"),
    ("校验规则", "每行:表单、条件、范围、级别、字段、提示、依据。条件描述“有问题”的情形:条件成立时报告提示。"
             "范围为“明细”时对每一行明细分别判断,可直接使用该行的列名(如 金额、数量、单价)。"
             "级别“错误”会把表单退回申请人;“警告”只提示审批人。提示中可用 {字段名} 引用填写的值。"),
    ("抄送", "表单、条件、角色、依据、时机:条件成立时抄送给担任该角色的人(申请人所在部门优先)。"
             "时机:“提交时”在提交后即抄送,“通过后”在审批通过后抄送(默认),“两者”两次都抄送;"
             "抄送副本标明「抄送 · 仅供知悉」,附审批结果和审批记录。「部门取自」可指定在哪个部门找该角色(如 责任部门)。"),
    ("参数", "规则中使用的限额与天数。说明中标有“默认值”的数字是制度未规定、由本系统预设的,请按公司实际修改。"
           "「类型」决定值怎样读:金额(元,最多两位小数)、数量、比例(0.25 或 25%)、工作日与天数(整数)、文本、是/否。"
           "值请填写数字,如 500000;写成「50万元」会被拒绝,并提示应填写的数字。"),
    ("节假日", "补充或更正法定节假日:类型“休息日”表示当天放假,“工作日”表示调休上班。程序自带的法定节假日数据只到 2026 年。"),
    ("编号规则", "编号格式:{年}、{月}、{表单代码}、{序号:04d}(4 位序号,不足补零)。含 {月} 的编号每月从 1 开始,否则每年从 1 开始。"),
    ("公司信息", "合同中使用的本公司信息。"),
    ("合同模板", "审批通过后用哪个 Word 模板(contracts/ 文件夹中)生成合同。"),
    ("条件的写法", ""),
    ("名称", "可直接使用表单的字段名(如 合同金额)、参数名(如 重大合同金额),明细范围中还可用该行的列名。"),
    ("运算", "比较 == != > >= < <=(单个 = 也表示等于,<> 表示不等于);and(并且)、or(或者)、not(不);"
           "加减乘除 + - * /;in 判断是否在列表中。文字要加英文或中文引号。"),
    ("空白", "未填写的字段为空:与空白的任何比较都为“假”,因此空白不会误触发规则;要判断是否填写请用 已填(x) 或 未填(x)。"),
    ("例子", '合同金额 >= 重大合同金额'),
    ("例子", '付款方式 == "账期" and 客户未收款(客户名称) + 合同金额 > 客户信用额度(客户名称)'),
    ("例子", '偏离报价 = "是" and 未填(偏离说明)'),
    ("例子", '客户等级 not in ("A", "B", "C")'),
    ("可用函数", ""),
]


GUIDE_WIDTH = 96  # with column A, one landscape A4 width at full size


def _write_guide(ws: Worksheet) -> None:
    ws.title = "说明"
    rows = GUIDE + [(f"{fn.name}{fn.args}", f"{fn.doc} 例:{fn.example}") for fn in FUNCTIONS.values()]
    for title, text in rows:
        ws.append([title, text])
        if not text:
            ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = GUIDE_WIDTH
    for title, row in zip(ws["A"], ws.iter_rows(min_col=2, max_col=2)):
        title.alignment = Alignment(vertical="top")
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
        if row[0].value:  # Excel does not size a row to wrapped text written by a program
            ws.row_dimensions[row[0].row].height = row_height(lines_needed(str(row[0].value), GUIDE_WIDTH))
    setup_openpyxl(ws, landscape=True)


def _save_atomically(wb: Workbook, dest: Path) -> None:
    atomic_save(dest, wb.save)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("policies") / "制度.xlsx"
    print(build_policy_workbook(target))
