"""Problems with a file as a whole: it cannot be read safely, is not a form, or is not there."""

from __future__ import annotations

from automation.problems import kind

unsafe = kind("file-unsafe", "文件无法安全读取", "{message}")
unknown_form = kind("form-not-recognised", "无法识别的表单", "{message}")
file_missing = kind("file-missing", "找不到文件", "找不到文件「{value}」,请检查文件名和路径后重试。")
