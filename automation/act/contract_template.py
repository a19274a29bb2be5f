"""(Re)create the shipped template ``contracts/销售合同.docx`` with python-docx.

The administrator edits the .docx in Word afterwards; this script exists so the
shipped file is reproducible and reviewable as code. Every Jinja tag sits in a
run of its own, because Word splits text into runs where it likes and a tag
broken across runs is not a tag. Run: ``python -m automation.act.contract_template [目标文件]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

BODY_FONT, TITLE_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BODY_SIZE = Pt(12)  # 小四
SMALL_SIZE = Pt(10.5)  # 五号
TITLE_SIZE = Pt(22)  # 二号
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "contracts" / "销售合同.docx"

GOODS_HEADER = ("序号", "品名", "规格型号", "数量", "单价(元)", "金额(元)")
GOODS_ROW = ("{{ r.序号 }}", "{{ r.品名 }}", "{{ r.规格型号 }}", "{{ r.数量 }}", "{{ r.单价|金额 }}", "{{ r.金额|金额 }}")
GOODS_WIDTHS = (Cm(1.2), Cm(4.2), Cm(3.4), Cm(1.8), Cm(2.6), Cm(3.0))
NUMERIC_COLUMNS = (3, 4, 5)


# --- formatting helpers ------------------------------------------------------


def _font(run, *, east: str = BODY_FONT, size=BODY_SIZE, bold: bool = False) -> None:
    run.font.name = LATIN_FONT
    run.font.size = size
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east)


def _para(container, parts=(), *, align=None, indent: bool = False, bold: bool = False, size=BODY_SIZE,
          east: str = BODY_FONT, after: float = 0):
    """A paragraph from text parts; each part becomes its own run (tags stay whole)."""
    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(0)
    fmt.line_spacing = 1.35
    if indent:
        fmt.first_line_indent = Pt(24)  # two characters, as Chinese paragraphs begin
    if align is not None:
        paragraph.alignment = align
    for part in ([parts] if isinstance(parts, str) else parts):
        _font(paragraph.add_run(_cn(part)), east=east, size=size, bold=bold)
    return paragraph


def _tag(doc, tag: str) -> None:
    """A docxtpl paragraph tag ({%p … %}): the whole paragraph is replaced on rendering."""
    _para(doc, tag)


def _article(doc, title: str) -> None:
    p = _para(doc, title, bold=True, east=TITLE_FONT, after=2)
    p.paragraph_format.space_before = Pt(6)
    p.paragraph_format.keep_with_next = True


def _clause(doc, *parts: str) -> None:
    _para(doc, parts, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def _cell_text(cell, parts, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER, size=SMALL_SIZE) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    for part in ([parts] if isinstance(parts, str) else parts):
        _font(paragraph.add_run(_cn(part)), size=size, bold=bold)


def _shade(cell, fill: str = "D9D9D9") -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) so that the footer counts pages; Word updates it when shown."""
    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None), ("text", "1"), ("end", None)):
        run = paragraph.add_run()
        _font(run, size=Pt(9))
        if kind in ("begin", "separate", "end"):
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if kind is None else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)


def _cn(part: str) -> str:
    """Full-width punctuation for Chinese text; Jinja tags are left exactly as written."""
    if "{{" in part or "{%" in part:
        return part
    return part.translate(_FULL_WIDTH)


_FULL_WIDTH = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})


# --- the document ----------------------------------------------------------


def _page(doc) -> None:
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.3)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.5)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = BODY_SIZE
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)


def _footer(doc) -> None:
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in ("合同编号:", "{{ 合同编号 }}", "    第 ", "PAGE", " 页 共 ", "NUMPAGES", " 页"):
        if text in ("PAGE", "NUMPAGES"):
            _field(paragraph, text)
        else:
            _font(paragraph.add_run(_cn(text)), size=Pt(9))


def _heading(doc) -> None:
    _para(doc, "销 售 合 同", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=TITLE_SIZE, east=TITLE_FONT, after=12)
    for label, tag in (("合同编号:", "{{ 合同编号 }}"), ("签订地点:", "{{ 签订地点 }}"),
                       ("签订日期:", "{{ 签订日期|中文日期 }}")):
        p = _para(doc, (label, tag), align=WD_ALIGN_PARAGRAPH.RIGHT, size=SMALL_SIZE)
    p.paragraph_format.space_after = Pt(8)


def _party(doc, title: str, name_tag: str, side: str) -> None:
    _para(doc, (title, name_tag), bold=True)
    rows = (
        ("统一社会信用代码:", f"{{{{ {side}.统一社会信用代码|留空 }}}}"),
        ("住所:", f"{{{{ {side}.地址|留空 }}}}"),
        ("法定代表人:", f"{{{{ {side}.法定代表人|留空 }}}}"),
        ("联系人:", f"{{{{ {side}.联系人|留空 }}}}", "    联系电话:", f"{{{{ {side}.电话|留空 }}}}"),
        ("开户银行:", f"{{{{ {side}.开户行|留空 }}}}", "    账号:", f"{{{{ {side}.账号|留空 }}}}"),
    )
    for parts in rows:
        p = _para(doc, parts, size=SMALL_SIZE)
        p.paragraph_format.left_indent = Pt(24)
    doc.paragraphs[-1].paragraph_format.space_after = Pt(6)


def _goods_table(doc) -> None:
    table = doc.add_table(rows=6, cols=6)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in table.rows:
        for cell, width in zip(row.cells, GOODS_WIDTHS):
            cell.width = width
    for i, text in enumerate(GOODS_HEADER):
        _cell_text(table.cell(0, i), text, bold=True)
        _shade(table.cell(0, i))
    _cell_text(table.cell(1, 0), "{%tr for r in 明细 %}")
    for i, text in enumerate(GOODS_ROW):
        align = WD_ALIGN_PARAGRAPH.RIGHT if i in NUMERIC_COLUMNS else WD_ALIGN_PARAGRAPH.CENTER
        _cell_text(table.cell(2, i), text, align=align if i != 1 else WD_ALIGN_PARAGRAPH.LEFT)
    _cell_text(table.cell(3, 0), "{%tr endfor %}")
    _total_rows(table)
    header = table.rows[0]._tr.get_or_add_trPr()
    header.append(OxmlElement("w:tblHeader"))  # repeat the header on every page


def _total_rows(table) -> None:
    total = table.cell(4, 0).merge(table.cell(4, 2))
    _cell_text(total, "合    计", bold=True)
    _cell_text(table.cell(4, 3), "{{ 数量合计 }}", align=WD_ALIGN_PARAGRAPH.RIGHT, bold=True)
    _cell_text(table.cell(4, 5), "{{ 合同金额|金额 }}", align=WD_ALIGN_PARAGRAPH.RIGHT, bold=True)
    upper = table.cell(5, 0).merge(table.cell(5, 5))
    _cell_text(upper, ("合同总金额(大写):人民币", "{{ 合同金额|大写 }}", "  (小写:¥", "{{ 合同金额|金额 }}", ")"),
               bold=True, align=WD_ALIGN_PARAGRAPH.LEFT)


def _article_goods(doc) -> None:
    _article(doc, "第一条  货物名称、规格型号、数量及价款")
    _goods_table(doc)
    _para(doc, "", size=Pt(4))  # a little air between the table and its notes
    _clause(doc, "1. 上述单价为含税价(含增值税),已包括货物价款、包装费、运至交货地点的运输费及保险费;"
                 "除本合同另有约定外,甲方不再向乙方收取其他费用。")
    _clause(doc, "2. 本合同价格", "{% if 报价单号 %}", "依据甲方报价单(编号:", "{{ 报价单号 }}", ")确定", "{% else %}",
            "由双方协商确定", "{% endif %}", "{% if 折扣率 %}", ",已含甲方给予乙方的 ", "{{ 折扣率|百分比 }}",
            " 折扣优惠", "{% endif %}", "。")


def _articles_delivery(doc) -> None:
    _article(doc, "第二条  质量标准")
    _clause(doc, "甲方提供的货物应为全新、合格产品,符合国家标准、行业标准及产品说明书载明的技术参数;"
                 "国家标准与行业标准不一致的,以较高者为准。甲方随货提供产品合格证及必要的技术资料。")
    _article(doc, "第三条  交货时间、地点及方式")
    _clause(doc, "1. 交货日期:甲方应于", "{{ 交货日期|中文日期 }}", "前(含当日)将全部货物交付乙方。")
    _clause(doc, "2. 交货地点:", "{{ 交货地点 or '乙方住所地' }}", "。")
    _clause(doc, "3. 交货方式:由甲方负责送货,运费及运输途中的风险由甲方承担;货物毁损、灭失的风险自货物交付乙方时转移。")
    _article(doc, "第四条  验收")
    _clause(doc, "乙方应于货物送达之日起七日内,按本合同约定的品名、规格型号、数量及质量标准进行验收。"
                 "对数量或外观有异议的,应在验收期内以书面形式向甲方提出;逾期未提出书面异议的,视为验收合格。"
                 "对内在质量有异议的,应在质量保证期内提出并提供相应检测依据。")


def _article_payment(doc) -> None:
    _article(doc, "第五条  付款方式及期限")
    _tag(doc, "{%p if 付款方式 == '预付款' %}")
    _clause(doc, "1. 付款方式:预付款。乙方应于本合同签订之日起五个工作日内,向甲方一次性支付全部合同价款人民币",
            "{{ 合同金额|大写 }}", "(¥", "{{ 合同金额|金额 }}", "),甲方收到全部款项后安排发货。")
    _tag(doc, "{%p elif 付款方式 == '账期' %}")
    _clause(doc, "1. 付款方式:账期付款,账期为", "{{ 账期天数 }}", "天。乙方应自货物验收合格之日起", "{{ 账期天数 }}",
            "日内,向甲方一次性付清全部合同价款人民币", "{{ 合同金额|大写 }}", "(¥", "{{ 合同金额|金额 }}", ")。")
    _tag(doc, "{%p else %}")
    _clause(doc, "1. 付款方式:", "{{ 付款方式 }}", "。货物送达交货地点并经乙方验收合格之日起三日内,乙方应向甲方一次性付清全部合同价款人民币",
            "{{ 合同金额|大写 }}", "(¥", "{{ 合同金额|金额 }}", ")。")
    _tag(doc, "{%p endif %}")
    _clause(doc, "2. 乙方以银行转账方式将款项汇入甲方下列账户:开户银行 ", "{{ 卖方.开户行 }}", ",账号 ", "{{ 卖方.账号 }}",
            "。甲方变更收款账户的,应以加盖公章的书面通知告知乙方,否则乙方向原账户付款视为已履行付款义务。")
    _clause(doc, "3. 甲方应在收到款项前向乙方开具合法有效的增值税专用发票。")


def _articles_liability(doc) -> None:
    _article(doc, "第六条  质量保证")
    _clause(doc, "货物的质量保证期为自验收合格之日起十二个月。质量保证期内非因乙方使用不当造成的质量问题,"
                 "甲方应在接到乙方书面通知后七日内免费修理、更换或退货,由此产生的费用由甲方承担。")
    _article(doc, "第七条  违约责任")
    _clause(doc, "1. 甲方逾期交货的,每逾期一日,应按逾期交付货物价款的万分之五向乙方支付违约金;逾期超过三十日的,乙方有权解除合同。")
    _clause(doc, "2. 乙方逾期付款的,每逾期一日,应按逾期未付款项的万分之五向甲方支付违约金;逾期超过三十日的,甲方有权解除合同并要求乙方赔偿损失。")
    _clause(doc, "3. 甲方交付的货物不符合本合同约定的质量标准的,乙方有权要求甲方更换、修理或退货,并要求甲方赔偿由此造成的直接损失。")
    _clause(doc, "4. 违约金不足以弥补守约方损失的,违约方还应赔偿差额部分,包括守约方为实现债权支出的诉讼费、律师费等合理费用。")
    _article(doc, "第八条  不可抗力")
    _clause(doc, "因不可抗力不能履行本合同的,根据不可抗力的影响,部分或者全部免除责任。受不可抗力影响的一方应及时通知对方,"
                 "并在十五日内提供相关证明,以减轻可能给对方造成的损失。")
    _article(doc, "第九条  争议解决")
    _clause(doc, "因本合同引起的或与本合同有关的任何争议,双方应友好协商解决;协商不成的,任何一方均可向本合同签订地"
                 "(甲方所在地)有管辖权的人民法院提起诉讼。")


def _article_misc(doc) -> None:
    _article(doc, "第十条  其他约定")
    _clause(doc, "1. 特别约定:", "{{ 特殊条款 or '无' }}", "。")
    _clause(doc, "2. 本合同未尽事宜,由双方另行协商并签订书面补充协议;补充协议与本合同具有同等法律效力。")
    _clause(doc, "3. 本合同自双方法定代表人或委托代理人签字并加盖公章或合同专用章之日起生效。")
    _clause(doc, "4. 本合同一式贰份,甲乙双方各执壹份,具有同等法律效力。")
    _para(doc, "(以下无正文)", align=WD_ALIGN_PARAGRAPH.CENTER, after=12)


def _signatures(doc) -> None:
    rows = (
        (("甲方(卖方):",), ("乙方(买方):",)),
        (("{{ 卖方.名称 }}",), ("{{ 客户名称 }}",)),
        (("(盖章)",), ("(盖章)",)),
        (("法定代表人或委托代理人(签字):",), ("法定代表人或委托代理人(签字):",)),
        ((" ",), (" ",)),
        (("联系电话:", "{{ 卖方.电话 }}"), ("联系电话:", "{{ 买方.电话 }}")),
        (("日期:", "{{ 签订日期|中文日期 }}"), ("日期:", "{{ 签订日期|中文日期 }}")),
    )
    table = doc.add_table(rows=len(rows), cols=2)
    _no_borders(table)
    for r, (left, right) in enumerate(rows):
        for c, parts in enumerate((left, right)):
            _cell_text(table.cell(r, c), parts, align=WD_ALIGN_PARAGRAPH.LEFT, size=BODY_SIZE, bold=r == 0)
            table.cell(r, c).paragraphs[0].paragraph_format.space_after = Pt(6)


def build(dest: Path = DEFAULT_PATH) -> Path:
    doc = Document()
    _page(doc)
    _footer(doc)
    _heading(doc)
    _party(doc, "甲方(卖方):", "{{ 卖方.名称 }}", "卖方")
    _party(doc, "乙方(买方):", "{{ 客户名称 }}", "买方")
    _clause(doc, "根据《中华人民共和国民法典》及相关法律法规的规定,甲乙双方在平等、自愿、公平、诚实信用的基础上,"
                 "经友好协商,就乙方向甲方购买下列货物事宜达成一致,订立本合同,以资共同遵守。")
    for part in (_article_goods, _articles_delivery, _article_payment, _articles_liability, _article_misc, _signatures):
        part(doc)
    dest.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(dest))
    return dest


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
