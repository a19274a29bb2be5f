"""Reason files a person reads beside a quarantined or unrecognised file."""

from __future__ import annotations

from datetime import datetime


def reason_file_name(file_name: str) -> str:
    return f"{file_name}.原因.txt"


def unrecognised_text(*, file_name: str, sha256: str, when: datetime, message: str) -> str:
    return (
        "OfficeFlow 处理说明\n"
        "====================\n"
        f"文件名:{file_name}\n"
        f"收到时间:{when:%Y-%m-%d %H:%M:%S}\n"
        f"SHA-256:{sha256}\n\n"
        f"问题:{message}\n\n"
        "处理建议:请从共享文件夹 forms/ 中取用最新的空白表单填写后,再放入 inbox/ 提交。"
        "如需帮助,请联系办公室管理员。\n\n"
        "原文件已原样保存在本文件旁边,未做任何修改。\n"
    )
