"""Reason files a person reads beside a quarantined or unrecognised file.

Each says the problem in one sentence and what to do in another; the advice is
never repeated under 问题, and nothing in it is a code, a spec file or an
exception name.
"""

from __future__ import annotations

from datetime import datetime

RESUBMIT_ADVICE = ("请从共享文件夹 forms/ 中取用最新的空白表单填写后,再放入 inbox/ 提交。"
                   "如需帮助,请联系办公室管理员。")
KEPT = "原文件已原样保存在本文件旁边,未做任何修改。"


def reason_file_name(file_name: str) -> str:
    return f"{file_name}.原因.txt"


def problem_and_advice(message: str, advice: str | None = None) -> tuple[str, str]:
    """Split a message into (problem, advice).

    Messages are written as "what is wrong。请…": the advice is ``advice`` when the
    message ends with it, else the sentences from the first one that asks the
    reader to do something (请…), else ``advice`` or the general advice.
    """
    message = message.strip()
    if advice and message.endswith(advice) and len(message) > len(advice):
        return message[: -len(advice)].strip(), advice
    head, sep, tail = message.partition("。请")
    if sep and head:
        return head + "。", "请" + tail
    return message, advice or RESUBMIT_ADVICE


def _stamp(when: datetime) -> str:
    if when.tzinfo is None:
        return f"{when:%Y-%m-%d %H:%M:%S}"
    offset = f"{when:%z}"
    return f"{when:%Y-%m-%d %H:%M:%S}(UTC{offset[:3]}:{offset[3:5]})"


def reason_text(*, title: str, file_name: str, sha256: str, when: datetime, problem: str, advice: str,
                closing: str = "") -> str:
    return (
        f"OfficeFlow {title}\n"
        "====================\n"
        f"文件名:{file_name}\n"
        f"收到时间:{_stamp(when)}\n"
        f"SHA-256:{sha256}\n\n"
        f"问题:{problem}\n\n"
        f"处理建议:{advice}\n\n"
        f"{KEPT}{closing}\n"
    )


def unrecognised_text(*, file_name: str, sha256: str, when: datetime, message: str) -> str:
    problem, advice = problem_and_advice(message, RESUBMIT_ADVICE)
    return reason_text(title="处理说明", file_name=file_name, sha256=sha256, when=when, problem=problem, advice=advice)
