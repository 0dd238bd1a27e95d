"""支出功能分类: function classification, 类 (3 digits) / 款 (5) / 项 (7).

A budget line is booked to one 7-digit item; reports roll items up to sections and
classes. The table holds every code the seed uses and the common neighbours.
"""

from __future__ import annotations

from ledger.errors import UnknownCode

FUNCTION_CODES: dict[str, str] = {
    # 201 一般公共服务支出
    "201": "一般公共服务支出",
    "20103": "政府办公厅（室）及相关机构事务",
    "2010301": "行政运行",
    "2010302": "一般行政管理事务",
    "2010303": "机关服务",
    "2010350": "事业运行",
    "2010399": "其他政府办公厅（室）及相关机构事务支出",
    "20113": "商贸事务",
    "2011301": "行政运行",
    "2011308": "招商引资",
    "2011399": "其他商贸事务支出",
    # 208 社会保障和就业支出
    "208": "社会保障和就业支出",
    "20805": "行政事业单位养老支出",
    "2080501": "行政单位离退休",
    "2080502": "事业单位离退休",
    "2080505": "机关事业单位基本养老保险缴费支出",
    "2080506": "机关事业单位职业年金缴费支出",
    "2080599": "其他行政事业单位养老支出",
    # 210 卫生健康支出
    "210": "卫生健康支出",
    "21011": "行政事业单位医疗",
    "2101101": "行政单位医疗",
    "2101102": "事业单位医疗",
    "2101103": "公务员医疗补助",
    "2101199": "其他行政事业单位医疗支出",
    # 211 节能环保支出
    "211": "节能环保支出",
    "21110": "能源节约利用",
    "2111001": "能源节约利用",
    # 215 资源勘探工业信息等支出
    "215": "资源勘探工业信息等支出",
    "21502": "制造业",
    "2150299": "其他制造业支出",
    "21508": "支持中小企业发展和管理支出",
    "2150801": "行政运行",
    "2150805": "中小企业发展专项",
    "2150899": "其他支持中小企业发展和管理支出",
    "21599": "其他资源勘探工业信息等支出",
    "2159904": "技术改造支出",
    "2159999": "其他资源勘探工业信息等支出",
    # 216 商业服务业等支出
    "216": "商业服务业等支出",
    "21602": "商业流通事务",
    "2160201": "行政运行",
    "2160299": "其他商业流通事务支出",
    "21606": "涉外发展服务支出",
    "2160699": "其他涉外发展服务支出",
    "21699": "其他商业服务业等支出",
    "2169999": "其他商业服务业等支出",
    # 221 住房保障支出
    "221": "住房保障支出",
    "22102": "住房改革支出",
    "2210201": "住房公积金",
    "2210202": "提租补贴",
    "2210203": "购房补贴",
    # 229 其他支出
    "229": "其他支出",
    "22999": "其他支出",
    "2299999": "其他支出",
    # --- added for the 大英县 culture-and-tourism bureau's 2022 (commands/seed/daying-2022*):
    # --- to be moved into the catalogue files (issue 12, part 1). Names as in the 2022
    # --- 政府收支分类科目 (207 is the class the bureau's report names).
    "207": "文化旅游体育与传媒支出",
    "20701": "文化和旅游",
    "2070101": "行政运行",
    "2070199": "其他文化和旅游支出",
    # --- end of the added block
}


def _check_table() -> None:
    for code in FUNCTION_CODES:
        if len(code) not in (3, 5, 7) or not code.isdigit():
            raise ValueError(f"function code {code!r} is not 3, 5 or 7 digits")
        if len(code) > 3 and code[:3] not in FUNCTION_CODES:
            raise ValueError(f"function code {code} has no class {code[:3]}")
        if len(code) == 7 and code[:5] not in FUNCTION_CODES:
            raise ValueError(f"function code {code} has no section {code[:5]}")


_check_table()


def function_name(code: str) -> str:
    """The full name of a function code, class/section/item joined by ``/``."""
    if code not in FUNCTION_CODES:
        raise UnknownCode(f"function code {code} (支出功能分类) does not exist")
    parts = [code[:3], code[:5], code][: {3: 1, 5: 2, 7: 3}[len(code)]]
    return "/".join(FUNCTION_CODES[p] for p in parts)


def require_function_item(code: str) -> str:
    """Check that ``code`` is a 7-digit function item (项) a line can be booked to."""
    if not (isinstance(code, str) and len(code) == 7 and code.isdigit()):
        raise UnknownCode(
            f"function code {code!r} must be a 7-digit item (类/款/项), for example 2010301"
        )
    if code not in FUNCTION_CODES:
        raise UnknownCode(f"function code {code} (支出功能分类) does not exist")
    return code
