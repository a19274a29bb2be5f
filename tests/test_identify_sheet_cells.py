"""The title/marker cells of identification read from the first rows only (events for cells and rows,
fed a little at a time) give what a read of every element of the sheet gives."""

from lxml import etree

from automation.identify.package import _CELL, _cell_text, local, sheet_cells

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


class _Part:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, part):
        return self.data


def _every_element(data: bytes, strings, limit_rows):
    cells = {}
    for _, node in etree.iterparse(__import__("io").BytesIO(data), events=("end",), recover=True,
                                   resolve_entities=False, no_network=True):
        name = local(node.tag)
        if name == "row" and (node.get("r") or "0").isdigit() and int(node.get("r") or 0) > limit_rows:
            break
        if name == "c":
            match = _CELL.match((node.get("r") or "").upper())
            if match and int(match.group(2)) <= limit_rows:
                cells[(node.get("r") or "").upper()] = _cell_text(node, strings)
            node.clear()
    return cells


def _sheet(prefix: str, rows: int) -> bytes:
    xmlns = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    p = f"{prefix}:" if prefix else ""
    body = "".join(
        f'<{p}row r="{r}"><!-- note --><{p}c r="A{r}" t="s"><{p}v>{r % 3}</{p}v></{p}c>'
        f'<{p}c r="b{r}" t="inlineStr"><{p}is><{p}t>行{r}' + "字" * 300 + f'</{p}t></{p}is></{p}c>'
        f'<{p}c r="C{r}"><{p}v>{r * 1.5}</{p}v></{p}c></{p}row>' for r in range(1, rows + 1))
    return f'<{p}worksheet {xmlns}><{p}sheetData>{body}</{p}sheetData><{p}mergeCells/></{p}worksheet>'.encode()


def test_first_rows_as_a_full_read_gives_them():
    strings = ["甲", "乙", "丙"]
    for prefix in ("", "x"):
        for rows in (1, 3, 12, 40):
            data = _sheet(prefix, rows)
            assert len(data) > 2048 or rows < 3
            for limit in (3, 10):
                got = sheet_cells(_Part(data), "sheet", strings, limit_rows=limit)
                assert got == _every_element(data, strings, limit)
                assert set(got) == {f"{c}{r}" for c in "ABC" for r in range(1, min(rows, limit) + 1)}


def test_cells_without_a_namespace_and_a_damaged_tail():
    data = b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe6\xa0\x87\xe9\xa2\x98</t></is></c></row>' \
           b'<row r="2"><c r="A2"><v>7</v></c></row><row r="3"><c r="A3"><v>8'
    got = sheet_cells(_Part(data), "sheet", [], limit_rows=3)
    assert {"A1": "标题", "A2": "7"}.items() <= got.items()
