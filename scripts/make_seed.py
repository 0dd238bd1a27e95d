"""Write ``commands/seed/changji-2022.jsonl``: the bureau's 2022 as the commands a clerk posts.

The history is reconstructed from the published final accounts
(``shared/seed/changji-commerce-bureau-2022-final-accounts.txt``): allocations per
project and per basic line, transfers to the named enterprises, disbursements by
economic item, the two clawbacks, the classified project, a double payment and its
reversal (红字冲销), and the published 2021 figures for year-on-year comparison.
Amounts are whole hundreds of yuan except where a published figure pins the exact
amount (personnel 7,108,050 yuan, public operating 192,799 yuan; see the seed's
``derived_notes``). Deterministic: run it again and the file is byte-identical.

    python scripts/make_seed.py            # rewrite the fixture
    python scripts/make_seed.py --check    # fail if the fixture is out of date
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

UNIT = "CJ-SWGXJ"
UNIT_NAME = "昌吉市商务和工业信息化局"
YEAR = 2022
CLERK = "出纳-李娜"
ACCOUNTANT = "会计-王芳"
OUT = Path(__file__).resolve().parent.parent / "commands" / "seed" / "changji-2022.jsonl"


def yuan(amount: int | str | Decimal) -> str:
    """Yuan text with two decimals, from whole yuan or a 万元 decimal string."""
    if isinstance(amount, str):
        value = (
            Decimal(amount.removesuffix("万")) * 10000 if amount.endswith("万") else Decimal(amount)
        )
    else:
        value = Decimal(amount)
    return f"{value:.2f}"


def split(total: int, parts: int) -> list[int]:
    """``total`` whole yuan in ``parts`` near-equal whole-yuan parts that add up exactly."""
    base = total // parts
    return [base] * (parts - 1) + [total - base * (parts - 1)]


class Writer:
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []
        self.vouchers: dict[int, int] = {}
        self.documents = 0

    def add(self, command_type: str, day: date, **fields: Any) -> str:
        command_id = f"seed-{YEAR}-{len(self.commands) + 1:04d}"
        command = {
            "type": command_type,
            "command_id": command_id,
            "posted_by": fields.pop("posted_by", ACCOUNTANT),
            "business_date": day.isoformat(),
            **fields,
        }
        self.commands.append(command)
        return command_id

    def voucher(self, day: date) -> str:
        self.vouchers[day.month] = self.vouchers.get(day.month, 0) + 1
        return f"记-{YEAR}-{day.month:02d}-{self.vouchers[day.month]:04d}"

    def document(self, prefix: str = "昌市财预") -> str:
        self.documents += 1
        return f"{prefix}〔{YEAR}〕{self.documents}号"

    def line(
        self, code: str, title: str, nature: str, function_code: str, project: str | None = None
    ) -> None:
        fields: dict[str, Any] = {
            "unit": UNIT,
            "year": YEAR,
            "line": code,
            "title": title,
            "nature": nature,
            "function_code": function_code,
            "fund_source": "general_public_budget",
        }
        if project:
            fields["project"] = project
        self.add("open_budget_line", date(YEAR, 1, 1), **fields)

    def allocate(
        self, line: str, amount: int | str, day: date, *, initial: bool = False, memo: str = ""
    ) -> str:
        return self.add(
            "allocate_budget",
            day,
            unit=UNIT,
            year=YEAR,
            line=line,
            amount=yuan(amount),
            initial=initial,
            document_no="昌市人大批复〔2022〕1号" if initial else self.document(),
            memo=memo or ("年初预算" if initial else "指标追加下达"),
        )

    def pay(
        self,
        line: str,
        amount: int | str,
        day: date,
        payee: str,
        economic_code: str,
        memo: str,
        **extra: Any,
    ) -> str:
        return self.add(
            "disburse",
            day,
            posted_by=CLERK,
            unit=UNIT,
            year=YEAR,
            line=line,
            amount=yuan(amount),
            payee=payee,
            economic_code=economic_code,
            document_no=self.voucher(day),
            memo=memo,
            **extra,
        )

    def transfer(
        self,
        line: str,
        amount: int | str,
        day: date,
        payee: str,
        memo: str,
        economic_code: str = "31299",
    ) -> str:
        return self.add(
            "transfer_to_enterprise",
            day,
            posted_by=CLERK,
            unit=UNIT,
            year=YEAR,
            line=line,
            amount=yuan(amount),
            payee=payee,
            economic_code=economic_code,
            document_no=self.voucher(day),
            memo=memo,
        )


#: Basic lines: code, title, nature, function item, initial budget (yuan), payments
#: as (economic item, total yuan, payee, schedule) with schedule "monthly",
#: "quarterly", or a month number for a single payment.
BASIC_LINES: list[tuple[str, str, str, str, int, list[tuple[str, int, str, Any]]]] = [
    (
        "JB-2010301-RY",
        "行政运行（人员经费）",
        "basic_personnel",
        "2010301",
        3_100_000,
        [
            ("30101", 1_800_000, "在职职工（工资统发）", "monthly"),
            ("30102", 1_500_000, "在职职工（工资统发）", "monthly"),
            ("30103", 600_000, "在职职工（工资统发）", 12),
            ("30199", 100_000, "在职职工", "quarterly"),
            ("30304", 150_000, "遗属（抚恤）", 6),
            ("30305", 100_000, "困难职工（生活补助）", "quarterly"),
            ("30309", 58_850, "受表彰职工", 12),
        ],
    ),
    (
        "JB-2010350-RY",
        "事业运行（人员经费）",
        "basic_personnel",
        "2010350",
        1_000_000,
        [
            ("30101", 700_000, "事业编制职工（工资统发）", "monthly"),
            ("30102", 560_600, "事业编制职工（工资统发）", "monthly"),
            ("30103", 200_000, "事业编制职工（工资统发）", 12),
        ],
    ),
    (
        "JB-2080501-RY",
        "行政单位离退休",
        "basic_personnel",
        "2080501",
        0,
        [
            ("30301", 54_400, "离休干部", "monthly"),
        ],
    ),
    (
        "JB-2080502-RY",
        "事业单位离退休",
        "basic_personnel",
        "2080502",
        0,
        [
            ("30302", 4_400, "事业单位退休人员", "monthly"),
        ],
    ),
    (
        "JB-2080505-RY",
        "机关事业单位基本养老保险缴费",
        "basic_personnel",
        "2080505",
        450_000,
        [
            ("30108", 503_200, "昌吉市社会保险中心", "monthly"),
        ],
    ),
    (
        "JB-2101101-RY",
        "行政单位医疗",
        "basic_personnel",
        "2101101",
        150_000,
        [
            ("30110", 193_000, "昌吉市医疗保障局", "monthly"),
        ],
    ),
    (
        "JB-2101102-RY",
        "事业单位医疗",
        "basic_personnel",
        "2101102",
        90_000,
        [
            ("30110", 105_800, "昌吉市医疗保障局", "monthly"),
        ],
    ),
    (
        "JB-2101103-RY",
        "公务员医疗补助",
        "basic_personnel",
        "2101103",
        80_000,
        [
            ("30111", 94_400, "昌吉市医疗保障局", "quarterly"),
        ],
    ),
    (
        "JB-2101199-RY",
        "其他行政事业单位医疗支出",
        "basic_personnel",
        "2101199",
        0,
        [
            ("30112", 2_100, "昌吉市社会保险中心", 11),
        ],
    ),
    (
        "JB-2210201-RY",
        "住房公积金",
        "basic_personnel",
        "2210201",
        354_800,
        [
            ("30113", 381_300, "昌吉州住房公积金管理中心", "monthly"),
        ],
    ),
    (
        "JB-2010301-GY",
        "行政运行（公用经费）",
        "basic_public",
        "2010301",
        150_000,
        [
            ("30201", 20_000, "办公用品零星采购", "quarterly"),
            ("30202", 8_000, "昌吉市印务公司", 5),
            ("30204", 799, "开户银行（手续费）", "monthly"),
            ("30205", 6_000, "昌吉市供水公司", "quarterly"),
            ("30206", 18_000, "国网昌吉供电公司", "quarterly"),
            ("30207", 9_300, "中国电信昌吉分公司", "quarterly"),
            ("30211", 20_000, "出差人员（差旅报销）", "quarterly"),
            ("30231", 51_600, "公务用车加油、维修、保险", "monthly"),
        ],
    ),
]

#: Procurement payments of the public operating line: (month, economic item, yuan,
#: payee, category, supplier size). Goods 40,000, services 19,100 (政府采购 5.91万).
PROCUREMENTS = [
    (4, "30201", 22_300, "办公设备供应商（小型企业）", "goods", "small"),
    (5, "30201", 2_700, "办公用品供应商（中型企业）", "goods", "medium"),
    (9, "30201", 15_000, "办公家具供应商（大型企业）", "goods", "large"),
    (6, "30203", 19_100, "咨询服务机构（小型企业）", "services", "small"),
]

#: Projects: code, name, implementing units, classified, initial budget (万元 or None),
#: allocation month, lines as (line code, function item, 万元), and payments as
#: (line code, month, kind, 万元, payee, economic item, memo).
PROJECTS: list[dict[str, Any]] = [
    {
        "code": "P01",
        "name": "2022年边境地区转移支付资金",
        "implementing": "特变电工股份有限公司等",
        "month": 3,
        "lines": [("XM-P01-2159904", "2159904", "1078"), ("XM-P01-2160699", "2160699", "612")],
        "payments": [
            (
                "XM-P01-2159904",
                5,
                "transfer",
                "600",
                "特变电工股份有限公司",
                "31299",
                "技术改造支出",
            ),
            (
                "XM-P01-2159904",
                6,
                "transfer",
                "478",
                "边贸进出口加工企业（技术改造）",
                "31299",
                "边贸进出口加工业固定资产投资",
            ),
            (
                "XM-P01-2160699",
                6,
                "transfer",
                "612",
                "边贸物流运输企业",
                "31299",
                "物流运输项目支出",
            ),
        ],
    },
    {
        "code": "P02",
        "name": "招商引资工作经费",
        "implementing": "昌吉市商务和工业信息化局",
        "initial": "30",
        "lines": [("XM-P02-2010399", "2010399", None)],
        "payments": [
            ("XM-P02-2010399", 3, "pay", "6", "招商人员（差旅报销）", "30211", "赴疆外招商差旅费"),
            (
                "XM-P02-2010399",
                5,
                "pay",
                "8",
                "昌吉市招商推介会承办酒店",
                "30215",
                "招商推介会会议费",
            ),
            (
                "XM-P02-2010399",
                6,
                "pay",
                "6",
                "招商人员（差旅报销）",
                "30211",
                "主要领导走出去招商差旅费",
            ),
            ("XM-P02-2010399", 9, "pay", "6.08", "展会组织机构", "30299", "参加各类展会费用"),
        ],
    },
    {
        "code": "P03",
        "name": "馕产业发展专项资金",
        "implementing": "新疆麦趣尔食品有限公司、新疆喜多粒食品有限公司等",
        "month": 4,
        "lines": [("XM-P03-2160299", "2160299", "63.2")],
        "payments": [
            (
                "XM-P03-2160299",
                7,
                "transfer",
                "35",
                "新疆麦趣尔食品有限公司",
                "31204",
                "馕产业高质量发展补贴",
            ),
            (
                "XM-P03-2160299",
                8,
                "transfer",
                "28.2",
                "新疆喜多粒食品有限公司",
                "31204",
                "馕产业高质量发展补贴",
            ),
        ],
    },
    {
        "code": "P04",
        "name": "馕产业园开业运营资金和为检查站滞留旅客购馕费",
        "implementing": "昌吉市商务和工业信息化局",
        "initial": "7.46",
        "lines": [("XM-P04-2010399", "2010399", None)],
        "payments": [
            ("XM-P04-2010399", 3, "pay", "2.38", "面粉供应商", "30218", "购买面粉6250公斤"),
            ("XM-P04-2010399", 3, "pay", "2.24", "清油供应商", "30218", "购买清油200桶"),
            (
                "XM-P04-2010399",
                3,
                "pay",
                "0.24",
                "日用品商店",
                "30201",
                "拖把、水桶、毛巾、炊具等生活用品",
            ),
            (
                "XM-P04-2010399",
                4,
                "pay",
                "2",
                "馕产业园入驻商户",
                "30218",
                "为检查站滞留旅客购买大馕4000个",
            ),
            ("XM-P04-2010399", 4, "pay", "0.6", "馕产业园入驻商户", "30218", "购买小馕200袋"),
        ],
    },
    {
        "code": "P05",
        "name": "2022年自治区“访惠聚”驻村工作专项经费",
        "implementing": "昌吉市商务和工业信息化局",
        "month": 3,
        "lines": [("XM-P05-2299999", "2299999", "15")],
        "payments": [
            ("XM-P05-2299999", 4, "pay", "3.75", "困难群众（访贫问苦）", "30305", "访贫问苦经费"),
            (
                "XM-P05-2299999",
                6,
                "pay",
                "7.58",
                "驻村工作队",
                "30299",
                "房屋修缮、村道、引水渠维修等党内关怀经费",
            ),
            ("XM-P05-2299999", 9, "pay", "3.67", "驻村工作队", "30299", "补充村级组织工作经费"),
        ],
    },
    {
        "code": "P06",
        "name": "2022年“访惠聚”驻村（社区）工作经费",
        "implementing": "昌吉市商务和工业信息化局",
        "month": 3,
        "lines": [("XM-P06-2299999", "2299999", "3")],
        "payments": [("XM-P06-2299999", 5, "pay", "3", "驻村工作队", "30299", "驻村工作经费")],
    },
    {
        "code": "P07",
        "name": "2020年销售平价羊肉补贴款",
        "implementing": "昌吉市商务和工业信息化局",
        "month": 2,
        "lines": [("XM-P07-2160299", "2160299", "23.82")],
        "payments": [
            (
                "XM-P07-2160299",
                3,
                "transfer",
                "23.82",
                "平价羊肉定点销售企业",
                "31204",
                "2020年销售平价羊肉补贴",
            )
        ],
    },
    {
        "code": "P08",
        "name": "业务经费",
        "implementing": "昌吉市商务和工业信息化局",
        "initial": "10",
        "lines": [("XM-P08-2010399", "2010399", None)],
        "payments": [
            ("XM-P08-2010399", 4, "pay", "3", "办公用品零星采购", "30201", "业务工作办公用品"),
            ("XM-P08-2010399", 7, "pay", "2.74", "业务人员（差旅报销）", "30211", "业务工作差旅费"),
            ("XM-P08-2010399", 10, "pay", "3", "培训机构", "30216", "业务培训费"),
        ],
    },
    {
        "code": "P09",
        "name": "提前下达2022年中央产业基础再造和制造业高质量发展资金",
        "implementing": "特变电工股份有限公司",
        "month": 1,
        "lines": [("XM-P09-2150899", "2150899", "3000")],
        "payments": [
            (
                "XM-P09-2150899",
                4,
                "transfer",
                "3000",
                "特变电工股份有限公司",
                "31299",
                "产业基础再造和制造业高质量发展资金",
            )
        ],
    },
    {
        "code": "P10",
        "name": "闽昌工业园标准化厂房建设项目规划设计费",
        "implementing": "新疆昊辰建筑规划设计院有限公司",
        "month": 5,
        "lines": [("XM-P10-2010399", "2010399", "9")],
        "payments": [
            (
                "XM-P10-2010399",
                8,
                "pay",
                "9",
                "新疆昊辰建筑规划设计院有限公司",
                "30227",
                "闽昌工业园标准化厂房规划设计费",
            )
        ],
    },
    {
        "code": "P11",
        "name": "2022年自治区重点技术创新专项资金",
        "implementing": "特变电工股份有限公司新疆变压器厂等",
        "month": 6,
        "lines": [("XM-P11-2150805", "2150805", "74")],
        "payments": [
            (
                "XM-P11-2150805",
                8,
                "transfer",
                "4",
                "特变电工股份有限公司新疆变压器厂",
                "31299",
                "奖励2021年度自治区级及以上质量标杆企业",
            ),
            (
                "XM-P11-2150805",
                9,
                "transfer",
                "50",
                "加工番茄产业链创新中心承建企业",
                "31299",
                "新建加工番茄产业链创新中心",
            ),
            (
                "XM-P11-2150805",
                9,
                "transfer",
                "20",
                "挤出级PBS树脂研发企业",
                "31299",
                "挤出级PBS树脂工艺技术的研发",
            ),
        ],
    },
    {
        "code": "P12",
        "name": "2022年自治区战略性新兴产业专项资金",
        "implementing": "特变电工智能电气有限责任公司",
        "month": 6,
        "lines": [("XM-P12-2150299", "2150299", "60")],
        "payments": [
            (
                "XM-P12-2150299",
                8,
                "transfer",
                "25",
                "特变电工智能电气有限责任公司",
                "31299",
                "新模式新业态应用项目",
            ),
            (
                "XM-P12-2150299",
                9,
                "transfer",
                "35",
                "特变电工智能电气有限责任公司",
                "31299",
                "首台（套）首批次首版次奖励",
            ),
        ],
    },
    {
        "code": "P13",
        "name": (
            "2022年中小企业发展专项资金预算（专精特新方向）专项资金"
            "（第三批国家级专精特新重点“小巨人”企业高质量发展奖补资金）"
        ),
        "implementing": "新疆特变电工自控设备有限公司",
        "month": 7,
        "lines": [("XM-P13-2150805", "2150805", "200")],
        "payments": [
            (
                "XM-P13-2150805",
                9,
                "transfer",
                "200",
                "新疆特变电工自控设备有限公司",
                "31299",
                "专精特新“小巨人”企业奖补资金",
            )
        ],
    },
    {
        "code": "P14",
        "name": "2022年中央外经贸发展专项资金预算",
        "implementing": "特变电工股份有限公司、中粮屯河番茄有限公司等",
        "month": 7,
        "lines": [("XM-P14-2160699", "2160699", "2082.65")],
        "payments": [
            (
                "XM-P14-2160699",
                9,
                "transfer",
                "1083",
                "特变电工股份有限公司",
                "31299",
                "支持推动服务贸易创新，对外投资平稳发展",
            ),
            (
                "XM-P14-2160699",
                10,
                "transfer",
                "773.5",
                "中粮屯河番茄有限公司",
                "31299",
                "引导进出口协同发展，鼓励加工贸易转型升级",
            ),
            (
                "XM-P14-2160699",
                10,
                "transfer",
                "226.15",
                "边境贸易企业（汇总拨付）",
                "31299",
                "支持加快培育外贸，促进边境贸易创新发展",
            ),
        ],
    },
    {
        "code": "P15",
        "name": "2022年度自治区工业节能减排专项资金",
        "implementing": "新屯河涂料有限公司、新疆蓝山屯河高端新材料工程技术研究中心等",
        "month": 8,
        "lines": [("XM-P15-2111001", "2111001", "101"), ("XM-P15-2150299", "2150299", "10")],
        "payments": [
            (
                "XM-P15-2111001",
                10,
                "transfer",
                "80",
                "新屯河涂料有限公司",
                "31299",
                "国家级绿色设计产品",
            ),
            (
                "XM-P15-2111001",
                10,
                "transfer",
                "15",
                "新疆蓝山屯河高端新材料工程技术研究中心",
                "31299",
                "第三批工业产品绿色设计示范企业",
            ),
            (
                "XM-P15-2111001",
                11,
                "transfer",
                "6",
                "能源审计和节能规划审核通过企业",
                "31299",
                "能源审计报告和节能规划审核",
            ),
            (
                "XM-P15-2150299",
                11,
                "transfer",
                "10",
                "新屯河涂料有限公司",
                "31299",
                "新产品开发生产",
            ),
        ],
    },
    {
        "code": "P16",
        "name": "2022年中央财政县域商业体系建设项目资金",
        "implementing": "新疆农易宝网络科技有限公司、新疆昌农供销农业科技公司",
        "month": 8,
        "lines": [("XM-P16-2169999", "2169999", "1154.61")],
        "payments": [
            (
                "XM-P16-2169999",
                10,
                "transfer",
                "149.61",
                "新疆农易宝网络科技有限公司",
                "31299",
                "昌吉市农村电商综合服务能力提升建设项目",
            ),
            (
                "XM-P16-2169999",
                11,
                "transfer",
                "1005",
                "新疆昌农供销农业科技公司",
                "31299",
                "县域商业体系建设",
            ),
        ],
    },
    {
        "code": "P17",
        "name": "2022年4-8月引进1名研究生试岗六个月生活补贴（谭舒月）",
        "implementing": "昌吉市商务和工业信息化局",
        "month": 4,
        "lines": [("XM-P17-2010399", "2010399", "1.8")],
        "payments": [
            ("XM-P17-2010399", m, "pay", "0.3", "引进研究生（试岗）", "30305", "试岗期间生活补贴")
            for m in range(4, 10)
        ],
    },
    {
        "code": "P18",
        "name": "2022年中央中小企业发展专项资金（中央参照直达资金）",
        "implementing": "昌吉市商务和工业信息化局",
        "month": 9,
        "lines": [("XM-P18-2150805", "2150805", "210")],
        "payments": [
            (
                "XM-P18-2150805",
                11,
                "transfer",
                "180",
                "生物降解树脂PBS项目企业",
                "31299",
                "研发投入",
            ),
            (
                "XM-P18-2150805",
                11,
                "transfer",
                "30",
                "生物降解树脂PBS项目企业",
                "31299",
                "其他投入",
            ),
        ],
    },
    {
        "code": "P19",
        "name": "2022年自治区中小企业发展专项资金（自治区参照直达资金）",
        "implementing": "昌吉市商务和工业信息化局",
        "month": 9,
        "lines": [("XM-P19-2150805", "2150805", "90.3")],
        "payments": [
            (
                "XM-P19-2150805",
                11,
                "transfer",
                "90.3",
                "中小企业公共服务平台运营企业",
                "31299",
                "中小企业公共服务平台和小微企业创业创新基地建设",
            )
        ],
    },
    {
        "code": "P20",
        "name": "涉密项目",
        "implementing": "",
        "classified": True,
        "month": 5,
        "lines": [("XM-P20-2150299", "2150299", "1490")],
        "payments": [
            ("XM-P20-2150299", 7, "transfer", "800", "（涉密）", "31299", "涉密"),
            ("XM-P20-2150299", 10, "transfer", "690", "（涉密）", "31299", "涉密"),
        ],
    },
]

#: Clawbacks of unspent project money (剩余资金财政收回): line, 万元.
CLAWBACKS = [("XM-P02-2010399", "3.92"), ("XM-P08-2010399", "1.26")]


def build() -> list[dict[str, Any]]:
    w = Writer()
    jan1 = date(YEAR, 1, 1)
    w.add("register_unit", jan1, code=UNIT, name=UNIT_NAME, kind="administrative")
    w.add("open_fiscal_year", jan1, unit=UNIT, year=YEAR)
    w.add(
        "import_prior_year_figures",
        jan1,
        unit=UNIT,
        year=YEAR,
        document_no="昌吉市商务和工业信息化局2021年度部门决算（公开）",
        memo="2021年未在本系统记账：导入已公开的2021年决算数用于同比",
        figures={
            "income_total": yuan("7872.48万"),
            "expenditure_total": yuan("7874.94万"),
            "fiscal_appropriation_income_total": yuan("7872.48万"),
            "fiscal_appropriation_expenditure_total": yuan("7874.94万"),
            "general_public_budget_expenditure": yuan("7874.94万"),
            "function_items": [
                {"code": c, "amount": yuan(f"{a}万")}
                for c, a in [
                    ("2010301", "473.25"),
                    ("2010350", "166.77"),
                    ("2080505", "46.06"),
                    ("2111001", "75"),
                    ("2150805", "325.13"),
                    ("2150899", "3550"),
                    ("2160299", "906"),
                    ("2169999", "115"),
                    ("2299999", "19.27"),
                ]
            ],
            "three_public": {"vehicle_operation": yuan("6.54万")},
            "office_operating_expenses": yuan("26.90万"),
        },
    )
    w.add(
        "set_three_public_budget",
        jan1,
        unit=UNIT,
        year=YEAR,
        document_no="昌市人大批复〔2022〕1号",
        amounts={
            "overseas_travel": "0",
            "vehicle_purchase": "0",
            "vehicle_operation": yuan("7.8万"),
            "official_reception": "0",
        },
    )
    w.add(
        "record_year_facts",
        date(YEAR, 12, 31),
        unit=UNIT,
        year=YEAR,
        document_no="2022年度部门决算报表",
        memo="人员、车辆、资产情况（年末数）",
        facts={
            "headcount": 85,
            "in_service": 36,
            "retired_before_1949_lixiu": 1,
            "retired": 48,
            "departments": 7,
            "vehicles_held": 3,
            "vehicles_purchased": 0,
            "fixed_assets_original_value": yuan("123.62万"),
            "buildings_m2": 0,
            "vehicles": 2,
            "vehicles_value": yuan("32.44万"),
        },
    )

    for p in PROJECTS:
        w.add(
            "register_project",
            jan1,
            unit=UNIT,
            code=p["code"],
            name=p["name"],
            implementing_units=p["implementing"],
            classified=p.get("classified", False),
            final_year=YEAR,  # one-year funds: nothing of them carries over
        )

    for code, title, nature, function_code, _initial, _payments in BASIC_LINES:
        w.line(code, title, nature, function_code)
    for p in PROJECTS:
        for code, function_code, _amount in p["lines"]:
            w.line(
                code,
                p["name"] if not p.get("classified") else "涉密项目",
                "project",
                function_code,
                project=p["code"],
            )

    # 年初预算: basic lines 537.48万 and three projects 47.46万 (584.94万 in all).
    for code, _t, _n, _f, initial, _p in BASIC_LINES:
        if initial:
            w.allocate(code, initial, jan1, initial=True)
    for p in PROJECTS:
        if "initial" in p:
            w.allocate(p["lines"][0][0], f"{p['initial']}万", jan1, initial=True)
    # Basic lines without an initial budget get theirs early in the year.
    for code, _t, _n, _f, initial, payments in BASIC_LINES:
        if not initial:
            w.allocate(code, sum(p[1] for p in payments), date(YEAR, 1, 20))

    # Spending and in-year allocations, month by month.
    for month in range(1, 13):
        for p in PROJECTS:
            if p.get("month") == month:
                for code, _f, amount in p["lines"]:
                    w.allocate(
                        code, f"{amount}万", date(YEAR, month, 10), memo=f"下达{p['name']}"[:200]
                    )
        if month == 7:  # 追加 basic lines to what the year needs
            for code, _t, _n, _f, initial, payments in BASIC_LINES:
                if initial:
                    needed = sum(p[1] for p in payments)
                    if code == "JB-2010301-GY":
                        needed += sum(p[2] for p in PROCUREMENTS)
                    if needed > initial:
                        w.allocate(
                            code, needed - initial, date(YEAR, 7, 15), memo="基本支出指标追加"
                        )
        for code, _t, _n, _f, _i, payments in BASIC_LINES:
            for economic_code, total, payee, schedule in payments:
                if schedule == "monthly":
                    amount = split(total, 12)[month - 1]
                elif schedule == "quarterly":
                    amount = split(total, 4)[month // 3 - 1] if month % 3 == 0 else 0
                else:
                    amount = total if schedule == month else 0
                if amount:
                    w.pay(
                        code,
                        amount,
                        date(YEAR, month, 25),
                        payee,
                        economic_code,
                        f"{month}月{payee}",
                    )
        for proc_month, economic_code, amount, payee, category, size in PROCUREMENTS:
            if proc_month == month:
                w.pay(
                    "JB-2010301-GY",
                    amount,
                    date(YEAR, month, 18),
                    payee,
                    economic_code,
                    "政府采购合同付款",
                    procurement_category=category,
                    supplier_size=size,
                )
        if month == 3:
            # A payment keyed twice by mistake, then reversed (红字冲销).
            duplicate = w.pay(
                "JB-2010301-GY",
                2_000,
                date(YEAR, 3, 26),
                "办公用品零星采购",
                "30201",
                "3月办公用品（重复录入）",
            )
            w.add(
                "reverse_entry",
                date(YEAR, 3, 28),
                unit=UNIT,
                year=YEAR,
                line="JB-2010301-GY",
                reverses_command_id=duplicate,
                reason="同一张发票重复录入，红字冲销",
                document_no=w.voucher(date(YEAR, 3, 28)),
            )
        for p in PROJECTS:
            for code, pay_month, kind, amount, payee, economic_code, memo in p["payments"]:
                if pay_month != month:
                    continue
                day = date(YEAR, month, 20)
                if kind == "transfer":
                    w.transfer(code, f"{amount}万", day, payee, memo, economic_code)
                else:
                    w.pay(code, f"{amount}万", day, payee, economic_code, memo)

    for code, amount in CLAWBACKS:
        w.add(
            "claw_back",
            date(YEAR, 12, 20),
            unit=UNIT,
            year=YEAR,
            line=code,
            amount=yuan(f"{amount}万"),
            document_no=w.document("昌市财收回"),
            memo="项目已经结束，剩余资金财政收回",
        )
    return w.commands


def render() -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in build())


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python scripts/make_seed.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(text.splitlines())} commands to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
