"""Intake safety: real bad files, built by real libraries, refused with the right code."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import olefile
import openpyxl
import openpyxl.xml
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import bad_files

from automation.errors import UnsafeFileError
from automation.intake.safety import (
    ADVICE,
    DEFAULT_ADVICE,
    inspect_file,
    ole_stream_names,
    reason_text,
)
from automation.intake.sniff import sniff
from automation.settings import Limits

DEFAULTS = Limits()
SHANGHAI = timezone(timedelta(hours=8))


def refusal(path, limits=DEFAULTS) -> UnsafeFileError:
    with pytest.raises(UnsafeFileError) as caught:
        inspect_file(path, limits)
    return caught.value


def test_openpyxl_parses_through_defusedxml():
    assert openpyxl.xml.DEFUSEDXML


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (bad_files.valid_xlsx, "xlsx"),
        (bad_files.valid_docx, "docx"),
        (bad_files.docx_renamed_xlsx, "docx"),
        (bad_files.without_content_types, "xlsx"),
    ],
)
def test_safe_office_files_pass_with_their_real_kind(tmp_path, factory, expected):
    assert inspect_file(factory(tmp_path), DEFAULTS) == expected


@pytest.mark.parametrize(
    ("factory", "code"),
    [
        (bad_files.zero_byte, "file-empty"),
        (bad_files.random_bytes, "file-not-office"),
        (bad_files.pdf_file, "file-not-office"),
        (bad_files.png_file, "file-not-office"),
        (bad_files.text_file, "file-not-office"),
        (bad_files.plain_zip, "file-not-office"),
        (bad_files.encrypted_xlsx, "file-encrypted"),
        (bad_files.legacy_ole, "file-legacy-format"),
        (bad_files.xlsm_with_macro, "file-macro"),
        (bad_files.docm_with_macro, "file-macro"),
        (bad_files.vba_only_xlsx, "file-macro"),
        (bad_files.zip_bomb, "zip-too-large"),
        (bad_files.lying_sizes_xlsx, "zip-bomb"),
        (bad_files.entity_bomb_xlsx, "xml-entity"),
        (bad_files.entity_in_oddly_named_part, "xml-entity"),
    ],
)
def test_bad_files_are_refused_with_their_code(tmp_path, factory, code):
    path = factory(tmp_path)
    error = refusal(path)
    assert error.code == code
    assert error.location and error.location.startswith(path.name)


def test_file_over_the_size_limit_is_refused_before_anything_else(tmp_path):
    tiny = Limits(max_file_mb=0.001)
    assert refusal(bad_files.valid_xlsx(tmp_path), tiny).code == "file-too-large"
    assert refusal(bad_files.encrypted_xlsx(tmp_path), tiny).code == "file-too-large"


def test_highly_compressed_entry_is_a_zip_bomb_even_within_the_size_limit(tmp_path):
    assert refusal(bad_files.zip_bomb(tmp_path, megabytes=5)).code == "zip-bomb"


def test_big_zip_bomb_is_a_bomb_when_the_size_limit_is_roomy(tmp_path):
    roomy = Limits(max_uncompressed_mb=1000)
    error = refusal(bad_files.zip_bomb(tmp_path, megabytes=300), roomy)
    assert error.code == "zip-bomb"
    assert error.location.endswith("xl/worksheets/sheet1.xml")


def test_too_many_entries(tmp_path):
    assert refusal(bad_files.too_many_entries(tmp_path, extra=30), Limits(max_zip_entries=20)).code == "zip-too-many-entries"
    assert inspect_file(bad_files.too_many_entries(tmp_path, extra=30), DEFAULTS) == "xlsx"


@pytest.mark.parametrize("part", ["docProps/app.xml", "xl/sharedStrings.xml", "[Content_Types].xml", "xl/workbook.xml"])
def test_entity_declaration_in_any_part_is_refused(tmp_path, part):
    error = refusal(bad_files.entity_bomb_xlsx(tmp_path, part=part))
    assert error.code == "xml-entity"
    assert part in error.message


def test_doctype_typed_into_a_cell_is_only_text(tmp_path):
    book = openpyxl.Workbook()
    book.active["A1"] = '<!DOCTYPE lolz [<!ENTITY lol "lol">]>'
    book.save(tmp_path / "正常.xlsx")
    assert inspect_file(tmp_path / "正常.xlsx", DEFAULTS) == "xlsx"


@pytest.mark.parametrize(
    ("factory", "look"),
    [(bad_files.pdf_file, "PDF"), (bad_files.png_file, "图片"), (bad_files.text_file, "纯文本"), (bad_files.random_bytes, "未知内容")],
)
def test_not_office_says_what_the_file_looks_like(tmp_path, factory, look):
    assert look in refusal(factory(tmp_path)).message


@pytest.mark.parametrize(("stream", "label"), [("Workbook", ".xls"), ("WordDocument", ".doc")])
def test_legacy_format_names_the_format_and_says_save_as(tmp_path, stream, label):
    message = refusal(bad_files.legacy_ole(tmp_path, stream=stream)).message
    assert label in message and "另存为" in message


def test_hand_built_cfb_is_real_and_its_directory_is_read(tmp_path):
    legacy = bad_files.legacy_ole(tmp_path)
    assert olefile.OleFileIO(str(legacy)).listdir() == [["Workbook"]]
    assert {"Root Entry", "Workbook"} == ole_stream_names(legacy)
    assert {"EncryptionInfo", "EncryptedPackage"} <= ole_stream_names(bad_files.encrypted_xlsx(tmp_path))


@pytest.mark.parametrize(
    ("factory", "kind"),
    [
        (bad_files.valid_xlsx, "xlsx"),
        (bad_files.valid_docx, "docx"),
        (bad_files.docx_renamed_xlsx, "docx"),
        (bad_files.xlsm_with_macro, "xlsm"),
        (bad_files.vba_only_xlsx, "xlsm"),
        (bad_files.docm_with_macro, "docm"),
        (bad_files.plain_zip, "zip"),
        (bad_files.encrypted_xlsx, "ole"),
        (bad_files.legacy_ole, "ole"),
        (bad_files.pdf_file, "pdf"),
        (bad_files.png_file, "image"),
        (bad_files.text_file, "text"),
        (bad_files.zero_byte, "empty"),
        (bad_files.random_bytes, "unknown"),
        (bad_files.without_content_types, "xlsx"),
    ],
)
def test_sniff_judges_by_content(tmp_path, factory, kind):
    assert sniff(factory(tmp_path)) == kind


def test_sniff_reads_gbk_notepad_text_as_text(tmp_path):
    path = tmp_path / "记事本.xlsx"
    path.write_bytes("申请人:张三\r\n金额:100 元\r\n".encode("gb18030"))
    assert sniff(path) == "text"


def test_reason_text_tells_the_sender_what_and_what_to_do(tmp_path):
    path = bad_files.encrypted_xlsx(tmp_path)
    error = refusal(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    when = datetime(2024, 5, 6, 14, 3, 9, tzinfo=SHANGHAI)
    text = reason_text(error, file_name=path.name, sha256=digest, when=when)
    assert f"文件名:{path.name}" in text
    assert "收到时间:2024-05-06 14:03:09(UTC+08:00)" in text
    assert f"SHA-256:{digest}" in text
    problem = text.split("问题:")[1].split("\n")[0]
    assert problem and error.message.startswith(problem)
    assert f"处理建议:{ADVICE['file-encrypted']}" in text
    assert "敬请谅解" in text


@pytest.mark.parametrize("factory", [bad_files.encrypted_xlsx, bad_files.xlsm_with_macro, bad_files.zero_byte,
                                     bad_files.pdf_file, bad_files.random_bytes, bad_files.legacy_ole],
                         ids=lambda f: f.__name__)
def test_quarantine_reason_says_the_problem_once_and_the_advice_once(tmp_path, factory):
    """The advice used to be repeated under 问题 and under 处理建议."""
    path = factory(tmp_path)
    error = refusal(path)
    text = reason_text(error, file_name=path.name, sha256="0" * 64, when=datetime(2024, 1, 1, tzinfo=SHANGHAI))
    assert text.count(ADVICE[error.code]) == 1
    problem = text.split("问题:")[1].split("\n")[0]
    assert problem.endswith("。") and "请" not in problem
    assert not re.search(r"[A-Z][a-z]+(Error|Zip)", text) and "附件另行" not in text


def test_reason_text_has_advice_even_for_an_unknown_code():
    error = UnsafeFileError("无法读取。", code="something-new")
    text = reason_text(error, file_name="a.xlsx", sha256="0" * 64, when=datetime(2024, 1, 1, tzinfo=SHANGHAI))
    assert f"处理建议:{DEFAULT_ADVICE}" in text


def test_reason_text_refuses_a_naive_time():
    with pytest.raises(ValueError):
        reason_text(UnsafeFileError("x"), file_name="a.xlsx", sha256="0" * 64, when=datetime(2024, 1, 1))


def test_every_code_has_chinese_advice():
    codes = {"file-empty", "file-too-large", "file-encrypted", "file-legacy-format", "file-not-office", "file-damaged",
             "zip-too-many-entries", "zip-too-large", "zip-bomb", "file-macro", "xml-entity",
             "internal-error", "file-crashes-processing", "table-too-long"}
    assert codes == set(ADVICE)
    assert all(re.search(r"[\u4e00-\u9fff]", advice) and advice.endswith("。") for advice in ADVICE.values())


# --- arbitrary input never escapes as anything but UnsafeFileError --------------------

def _valid_package() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        return bad_files.valid_xlsx(Path(folder)).read_bytes()


VALID = _valid_package()
MUTATED = st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8).map(
    lambda edits: _apply(VALID, edits)
)


def _apply(data: bytes, edits) -> bytes:
    buffer = bytearray(data)
    for at, value in edits:
        buffer[at] = value
    return bytes(buffer)


ANY_BYTES = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=2048).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=2048).map(lambda b: bad_files._cfb_header() + b),
    MUTATED,
    st.integers(1, len(VALID) - 1).map(lambda cut: VALID[:cut]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=ANY_BYTES)
def test_arbitrary_bytes_raise_nothing_but_unsafe_file_error(tmp_path, data):
    path = tmp_path / "任意.xlsx"
    path.write_bytes(data)
    try:
        assert inspect_file(path, DEFAULTS) in ("xlsx", "docx")
    except UnsafeFileError as error:
        assert error.code in ADVICE
    assert sniff(path) in ("xlsx", "xlsm", "docx", "docm", "zip", "ole", "pdf", "image", "text", "empty", "unknown")


def test_bytes_after_the_end_of_a_deflate_stream_do_not_hang_the_check(tmp_path):
    # Regression: zlib keeps returning trailing bytes as unconsumed input after the stream ends.
    path = bad_files.deflate_with_trailing_bytes(tmp_path)
    assert refusal(path).code == "file-not-office"


# --- big parts proven once per process (the blank form's styles) ---------------------------------


def _patch_central_crc(path, part: str) -> None:
    """Change the CRC the central directory declares for ``part`` (its bytes stay as they are)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + name_length]).decode() == part:
            data[at + 16:at + 20] = (int.from_bytes(data[at + 16:at + 20], "little") ^ 1).to_bytes(4, "little")
            break
        at = data.find(b"PK\x01\x02", at + 4)
    else:
        raise AssertionError(f"{part} not in the central directory")
    path.write_bytes(bytes(data))


def test_big_part_proven_clean_is_not_inflated_again_but_a_changed_crc_is_still_damaged(tmp_path, monkeypatch):
    from support.forms import build_blank

    from automation.intake import safety

    form = build_blank("trip_request", tmp_path / "a")
    assert inspect_file(form, DEFAULTS) == "docx"  # proves its styles part
    inflated = []
    real = safety._inflated_size
    monkeypatch.setattr(safety, "_inflated_size", lambda raw, info, cap, **kw: inflated.append(info.filename)
                        or real(raw, info, cap, **kw))
    whole = safety._inflated_bytes  # (a small part is inflated whole, its bytes kept for the declaration scan)
    monkeypatch.setattr(safety, "_inflated_bytes", lambda raw, info, cap: inflated.append(info.filename)
                        or whole(raw, info, cap))
    twin = tmp_path / "b" / form.name
    twin.parent.mkdir()
    twin.write_bytes(form.read_bytes())
    assert inspect_file(twin, DEFAULTS) == "docx"
    assert "word/styles.xml" not in inflated and "word/document.xml" in inflated
    _patch_central_crc(twin, "word/styles.xml")  # same bytes, another CRC: the proof does not apply
    assert refusal(twin).code == "file-damaged"
    assert "word/styles.xml" in inflated
