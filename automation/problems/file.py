"""Problems with a file as a whole: it cannot be read safely, is not a form, or is not there."""

from __future__ import annotations

from automation.problems import kind

unsafe = kind("file-unsafe", "文件无法安全读取", "{message}")
unknown_form = kind("form-not-recognised", "无法识别的表单", "{message}")
file_missing = kind("file-missing", "找不到文件", "找不到文件「{value}」,请检查文件名和路径后重试。")

# A Word form re-saved by another program: its content controls are gone, so values are read by label.
CONTROLS_LOST = ("此文件可能由 WPS/LibreOffice 另存,表单控件已丢失。请用 Word 填写,或改用 Excel 版表单。")
CONTROLS_LOST_KIND = kind("form-controls-lost", "表单控件已丢失",
                          CONTROLS_LOST + "未能可靠读取的项目:{fields}。您填写的内容仍保留在本文件中。")
