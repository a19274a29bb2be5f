"""A wrapping column that only changes width re-encodes just the rows whose height moves.

When another column narrows or widens, the width left to a wrapping column changes (in 我的申请,
the last open case closed narrows 当前审批人 and 下一步 and widens 回执). The rows' XML depends on
that width only through their heights, so the cached rows whose height stays are kept; the register
must still equal a full rebuild part for part and cell for cell.
"""

from __future__ import annotations

from test_registers_incremental import HISTORY, NAME, _add, _check, _render, office  # noqa: F401 (the fixture)

from automation.record.registers import incremental


def test_a_wrapping_column_changing_width_equals_a_full_rebuild_and_keeps_the_other_blocks(office, monkeypatch):
    store, settings, tmp = office
    _add(store, 1, applicant="一位名字非常非常长的申请人,用来让申请人这一列变宽并且需要换行显示的情况" * 2)
    _render(store, settings)
    _check(store, settings, tmp, "wraps")
    respaced, encoded_all, encoded = [], [], []
    monkeypatch.setattr(incremental, "_respace", lambda plan, before: respaced.append(
        real_respace(plan, before)))
    monkeypatch.setattr(incremental, "_encode_all", lambda plan: encoded_all.append(real_encode_all(plan)))
    monkeypatch.setattr(incremental, "_encode", lambda plan, b, makers: encoded.append(b) or real_encode(plan, b, makers))
    # A wider 金额, then a wider 部门, leave less room to the wrapping 申请人 column: it wraps narrower,
    # nothing starts or stops wrapping. Only the appended row's block and the long name's are encoded.
    for label, kw in (("amount", dict(amount="123456789.00")), ("department", dict(department="华东区域销售一部"))):
        respaced.clear(), encoded_all.clear(), encoded.clear()
        _add(store, 1, **kw)
        assert _render(store, settings).incremental[NAME] == 1
        assert respaced and not encoded_all, label
        assert len(set(encoded)) <= 2 < HISTORY // incremental.BLOCK_ROWS, (label, encoded)
        _check(store, settings, tmp, label)

real_respace, real_encode_all, real_encode = incremental._respace, incremental._encode_all, incremental._encode
