"""Without close events (polling, network shares) an Office file is read after the short settled period
only when its zip end proves it written to the end; any prefix of a real form — a copy still under way or
stalled mid-file — or one whose tail a preallocating copy has not written yet waits for the patience,
and a file that is not a zip keeps the full quiet period."""

from __future__ import annotations

import zipfile
from datetime import date

from support.forms import build_blank, fill_xlsx

from automation import samples
from automation.intake.stability import COMPLETE, INCOMPLETE, UNKNOWN, StabilityTracker, zip_state


def _forms(tmp_path) -> list[bytes]:
    xlsx = fill_xlsx(build_blank("customer_registration", tmp_path / "x"), samples.customer_registration(1, date.today()))
    docx = build_blank("trip_request", tmp_path / "d")
    return [xlsx.read_bytes(), docx.read_bytes()]


def test_every_prefix_of_a_real_form_is_incomplete_and_only_the_whole_file_is_complete(tmp_path):
    target = tmp_path / "复制中.xlsx"
    for data in _forms(tmp_path):
        target.write_bytes(data)
        assert zip_state(target) == COMPLETE
        cuts = sorted({*range(0, len(data), 97), *range(max(0, len(data) - 300), len(data))})
        for cut in cuts:
            target.write_bytes(data[:cut])
            assert zip_state(target) == INCOMPLETE, f"a copy cut at {cut} of {len(data)} bytes"


def test_a_preallocated_file_whose_tail_or_middle_is_not_written_yet_is_incomplete(tmp_path):
    data = _forms(tmp_path)[0]
    target = tmp_path / "预分配.xlsx"
    for start, end in ((len(data) // 2, len(data)), (len(data) - 22, len(data)), (0, len(data) // 3),
                       (len(data) // 3, 2 * len(data) // 3)):
        target.write_bytes(data[:start] + bytes(end - start) + data[end:])  # zeros where nothing was written yet
        assert zip_state(target) == INCOMPLETE, (start, end)


def test_a_directory_that_declares_an_entry_past_what_is_there_is_incomplete(tmp_path):
    data = _forms(tmp_path)[0]
    with zipfile.ZipFile(tmp_path / "x" / "客户登记表.xlsx") as zf:
        first = zf.infolist()[0]
    # the central directory entry of the first part: its local header offset pointed past the directory
    cd = data.rindex(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4:data.index(b"PK\x01\x02") + 8])
    target = tmp_path / "错位.xlsx"
    moved = bytearray(data)
    moved[cd + 42:cd + 46] = (len(data) - 40).to_bytes(4, "little")
    target.write_bytes(bytes(moved))
    assert first.header_offset == 0 and zip_state(target) == INCOMPLETE


def test_a_zip_with_a_comment_is_complete_and_a_file_that_is_no_zip_is_unknown(tmp_path):
    commented = tmp_path / "带注释.docx"
    with zipfile.ZipFile(commented, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.comment = b"PK\x05\x06 inside the comment"
    assert zip_state(commented) == COMPLETE
    text = tmp_path / "说明.txt"
    text.write_text("不是压缩包", encoding="utf-8")
    assert zip_state(text) == UNKNOWN
    empty = tmp_path / "刚创建.docx"
    empty.write_bytes(b"")
    assert zip_state(empty) == INCOMPLETE, "a copy that created the file and has written nothing yet"


def test_the_tracker_takes_a_complete_form_after_the_settled_period_and_waits_for_an_incomplete_one(tmp_path):
    data = _forms(tmp_path)[0]
    clock = [10.0]
    tracker = StabilityTracker(1.0, monotonic=lambda: clock[0], settled=0.3, patience=20.0)
    whole, half, other = tmp_path / "完整.xlsx", tmp_path / "一半.xlsx", tmp_path / "其他.txt"
    whole.write_bytes(data)
    half.write_bytes(data[: len(data) // 2])
    other.write_bytes(b"plain")
    assert not any(tracker.check(p) for p in (whole, half, other))
    assert abs(tracker.due_in() - 0.3) < 1e-9
    clock[0] = 10.299
    assert not tracker.check(whole)
    clock[0] = 10.3
    assert tracker.check(whole), "complete: the settled period is enough"
    assert not tracker.check(half) and not tracker.check(other)
    assert abs(tracker.due_in() - 0.7) < 1e-9  # the plain file's quiet period
    clock[0] = 11.0
    assert tracker.check(other), "not a zip: the full quiet period, as before"
    assert not tracker.check(half), "still being written: never judged after the quiet period"
    assert abs(tracker.due_in() - 19.0) < 1e-9
    clock[0] = 29.999
    assert not tracker.check(half)
    half.write_bytes(data)  # the copy goes on: a new stat, and now it is complete
    assert not tracker.check(half)
    clock[0] = 30.3
    assert tracker.check(half)


def test_an_incomplete_form_left_as_it_is_is_judged_after_the_patience(tmp_path):
    data = _forms(tmp_path)[0]
    clock = [0.0]
    tracker = StabilityTracker(1.0, monotonic=lambda: clock[0], settled=0.3, patience=20.0)
    stalled = tmp_path / "停住.xlsx"
    stalled.write_bytes(data[:1000])
    assert not tracker.check(stalled)
    clock[0] = 19.99
    assert not tracker.check(stalled)
    clock[0] = 20.0
    assert tracker.check(stalled), "after the patience it is judged as it stands (the usual answer for damage)"


def test_without_a_settled_period_every_file_keeps_the_quiet_period(tmp_path):
    data = _forms(tmp_path)[0]
    clock = [0.0]
    tracker = StabilityTracker(1.0, monotonic=lambda: clock[0])
    whole, half = tmp_path / "完整.xlsx", tmp_path / "一半.xlsx"
    whole.write_bytes(data)
    half.write_bytes(data[:100])
    assert not tracker.check(whole) and not tracker.check(half)
    clock[0] = 0.5
    assert not tracker.check(whole)
    clock[0] = 1.0
    assert tracker.check(whole) and tracker.check(half)
