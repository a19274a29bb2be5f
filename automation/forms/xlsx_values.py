"""A workbook opened for its values only: openpyxl's own parsers, without what reading values does not need.

``openpyxl.load_workbook`` spends most of a form's load on formatting: every merged
range re-styles the borders of each cell it covers (a form with 40 merged ranges
pays ~60 % of its load for that), and it reads drawings, comments, pivots, links.
Reading values needs none of it. ``load_values`` runs openpyxl's manifest,
shared-string, workbook, stylesheet (for date formats) and cell parsers exactly
as ``load_workbook`` does, then binds per worksheet only the cells, the merged
ranges (as plain ``MergedCell`` placeholders, as openpyxl leaves them), the
tables and the defined names. The result is an ordinary openpyxl ``Workbook``:
the same values, types, sheet names, tables and names as ``load_workbook`` gives
(tests/test_xlsx_values.py compares them on every form and the hostile corpus),
but it must never be saved — its formatting is not all there.

For values (``data_only=True``) the workbook is first read by ``forms.xlsx_lean`` — lxml over
just the parts values need, no openpyxl objects — and only a package that reader does not
take (``NotLean``, or any error) goes through openpyxl's reader here (``load_values_openpyxl``),
which stays the reference: tests/test_xlsx_values.py holds the two equal on real files.
"""

from __future__ import annotations

from openpyxl.cell import MergedCell
from openpyxl.reader.excel import ExcelReader
from openpyxl.packaging.relationship import RelationshipList, get_dependents, get_rels_path
from openpyxl.worksheet._reader import WorksheetReader
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.table import Table
from openpyxl.xml.functions import fromstring

from automation.forms.xlsx_lean import read_lean


class _ValuesOnly(WorksheetReader):
    def bind_all(self):
        self.bind_cells()
        self._bind_merged_plain()
        self.bind_tables()

    def _bind_merged_plain(self):
        # load_workbook's bind_merged_cells, without the borders of MergedCellRange (formatting only).
        if not self.parser.merged_cells:
            return
        ranges = []
        for cr in self.parser.merged_cells.mergeCell:
            merged = CellRange(cr.ref)
            self.ws.cell(merged.min_row, merged.min_col)  # (created if absent, as MergedCellRange does)
            cells = merged.cells
            next(cells)  # the top-left cell keeps its value
            for row, col in cells:
                self.ws._cells[row, col] = MergedCell(self.ws, row, col)
            ranges.append(merged)
        self.ws.merged_cells = MultiCellRange(ranges)


class _ValuesReader(ExcelReader):
    def read_properties(self):
        pass

    def read_custom(self):
        pass

    def read_theme(self):
        pass

    def read_worksheets(self):
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            rels_path = get_rels_path(rel.target)
            rels = get_dependents(self.archive, rels_path) if rels_path in self.valid_files else RelationshipList()
            ws = self.wb.create_sheet(sheet.name)
            ws._rels = rels
            with self.archive.open(rel.target) as fh:
                reader = _ValuesOnly(ws, fh, self.shared_strings, self.data_only, self.rich_text)
                reader.bind_all()
            for target in reader.tables:
                ws.add_table(Table.from_tree(fromstring(self.archive.read(target))))
            ws.sheet_state = sheet.state


def load_values(source, *, data_only: bool = True):
    """The workbook's cells, merged ranges, tables and defined names — as ``load_workbook`` reads them.

    With ``data_only`` a ``xlsx_lean.LeanBook`` when the lean reader takes the package (the same
    values, types, bounds, tables and names), else openpyxl's ``Workbook``."""
    if data_only:
        start = source.tell() if hasattr(source, "seek") else None
        try:
            return read_lean(source)
        except MemoryError:
            raise
        except Exception:  # NotLean, or anything: openpyxl's reader gives the answer (or the error)
            if start is not None:
                source.seek(start)
    return load_values_openpyxl(source, data_only=data_only)


def load_values_openpyxl(source, *, data_only: bool = True):
    """``load_values`` through openpyxl's own parsers: the reference, and the path for odd packages."""
    reader = _ValuesReader(source, read_only=False, keep_vba=False, data_only=data_only, keep_links=True,
                           rich_text=False)
    reader.read()
    return reader.wb
