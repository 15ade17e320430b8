"""The demo's fixed data: real Guangdong county names and division codes (GB/T 2260).

Allocations and every amount in the demo are synthetic, labelled as demo data wherever shown.
"""

from __future__ import annotations

PROGRAMME = "gd-2020-ecrural"
CITIES = {
    "440200": "韶关市", "441400": "梅州市", "441500": "汕尾市", "441600": "河源市",
    "441800": "清远市", "445300": "云浮市", "440800": "湛江市",
}
# (code, name, allocation in yuan — synthetic demo figures)
COUNTIES: list[tuple[str, str, int]] = [
    ("441423", "丰顺县", 10_000_000),
    ("441426", "平远县", 8_000_000),
    ("441427", "蕉岭县", 8_000_000),
    ("441623", "连平县", 10_000_000),
    ("441624", "和平县", 12_000_000),
    ("441625", "东源县", 10_000_000),
    ("441823", "阳山县", 12_000_000),
    ("441825", "连山壮族瑶族自治县", 8_000_000),
    ("441826", "连南瑶族自治县", 8_000_000),
    ("440232", "乳源瑶族自治县", 10_000_000),
    ("440233", "新丰县", 8_000_000),
    ("445322", "郁南县", 10_000_000),
    ("441523", "陆河县", 8_000_000),
    ("440825", "徐闻县", 12_000_000),
]
BREAKS_MIN_SHARE = "441826"  # training budget at 5 % of the allocation: below the 10 % minimum
LAGS_2020 = "441825"  # disburses under half of batch 1 in 2020; gets no batch 2
HAS_EXCEPTION = "441624"  # public services at 53 %, under an approved exception up to 55 %
FAILS_ACCEPTANCE = "440233"  # third-party acceptance: 验收不合格
# Budget plan in basis points of the allocation: (rural products online, public services,
# training). The default keeps every share inside its bound.
PLAN_BP = {
    "default": (3800, 4900, 1200),
    BREAKS_MIN_SHARE: (4500, 4900, 500),
    HAS_EXCEPTION: (3400, 5300, 1200),
}
PROJECT_NAMES = {
    "rural_products_online": [
        "农产品网销品牌培育", "特色农产品电商供应链", "冷链仓储配送中心", "农产品溯源系统",
        "直播带货基地", "农产品分级包装", "网货开发", "电商产业园孵化", "农产品质量标准化",
    ],
    "public_services": [
        "县级电子商务公共服务中心", "县级物流配送中心", "村级电商服务站点", "快递物流整合",
        "电商公共服务平台", "乡镇服务站升级", "贫困村站点覆盖", "便民服务系统", "物流车辆购置",
    ],
    "training": [
        "普及性电商培训", "农村青年创业增值培训", "建档立卡贫困户电商培训", "直播技能培训",
        "电商孵化辅导", "干部电商专题培训",
    ],
}
PAYEES = ["县电商发展有限公司", "粤北物流股份公司", "县邮政分公司", "某农业合作社",
          "某网络科技公司", "某培训学校", "某建设工程公司", "某供应链管理公司"]
