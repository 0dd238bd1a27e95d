"""支出经济分类: economic classification, 3-digit classes and 5-digit items.

Postings of spending name a 5-digit item. 301 and 303 are personnel (人员经费),
302 and 310 public operating (公用经费) when spent from basic lines; 312 is
对企业补助, the transfers to enterprises.
"""

from __future__ import annotations

from ledger.errors import UnknownCode

ECONOMIC_CODES: dict[str, str] = {
    "301": "工资福利支出",
    "30101": "基本工资",
    "30102": "津贴补贴",
    "30103": "奖金",
    "30106": "伙食补助费",
    "30107": "绩效工资",
    "30108": "机关事业单位基本养老保险缴费",
    "30109": "职业年金缴费",
    "30110": "职工基本医疗保险缴费",
    "30111": "公务员医疗补助缴费",
    "30112": "其他社会保障缴费",
    "30113": "住房公积金",
    "30114": "医疗费",
    "30199": "其他工资福利支出",
    "302": "商品和服务支出",
    "30201": "办公费",
    "30202": "印刷费",
    "30203": "咨询费",
    "30204": "手续费",
    "30205": "水费",
    "30206": "电费",
    "30207": "邮电费",
    "30208": "取暖费",
    "30209": "物业管理费",
    "30211": "差旅费",
    "30212": "因公出国（境）费用",
    "30213": "维修（护）费",
    "30214": "租赁费",
    "30215": "会议费",
    "30216": "培训费",
    "30217": "公务接待费",
    "30218": "专用材料费",
    "30226": "劳务费",
    "30227": "委托业务费",
    "30228": "工会经费",
    "30229": "福利费",
    "30231": "公务用车运行维护费",
    "30239": "其他交通费用",
    "30299": "其他商品和服务支出",
    "303": "对个人和家庭的补助",
    "30301": "离休费",
    "30302": "退休费",
    "30304": "抚恤金",
    "30305": "生活补助",
    "30307": "医疗费补助",
    "30309": "奖励金",
    "30399": "其他对个人和家庭的补助",
    "310": "资本性支出",
    "31002": "办公设备购置",
    "31003": "专用设备购置",
    "31013": "公务用车购置",
    "31099": "其他资本性支出",
    "312": "对企业补助",
    "31201": "资本金注入",
    "31203": "政府投资基金股权投资",
    "31204": "费用补贴",
    "31205": "利息补贴",
    "31299": "其他对企业补助",
    "399": "其他支出",
    "39999": "其他支出",
}

#: Economic classes of personnel expenses (人员经费) when paid from basic lines.
PERSONNEL_CLASSES = frozenset({"301", "303"})
#: Economic classes of public operating expenses (公用经费) when paid from basic lines.
PUBLIC_OPERATING_CLASSES = frozenset({"302", "310"})

for _code in ECONOMIC_CODES:
    if len(_code) not in (3, 5) or not _code.isdigit() or _code[:3] not in ECONOMIC_CODES:
        raise ValueError(f"economic code {_code!r} is malformed")


def economic_name(code: str) -> str:
    """The name of an economic code; raises :class:`UnknownCode` if there is none."""
    if code not in ECONOMIC_CODES:
        raise UnknownCode(f"economic code {code} (支出经济分类) does not exist")
    return ECONOMIC_CODES[code]


def economic_class(code: str) -> str:
    """The 3-digit class of a 5-digit economic item, after checking the item exists."""
    if not (isinstance(code, str) and len(code) == 5 and code.isdigit()):
        raise UnknownCode(f"economic code {code!r} must be a 5-digit item, for example 30201")
    economic_name(code)
    return code[:3]
