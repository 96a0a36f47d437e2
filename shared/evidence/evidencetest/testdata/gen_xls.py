#!/usr/bin/python3
"""Writes the legacy .xls (BIFF8) fixtures of package evidencetest with xlwt, a third-party
BIFF8 writer (Debian: apt-get install python3-xlwt). Run from this directory:

    /usr/bin/python3 gen_xls.py

The fixtures are committed; rerun only to change them. Layout as the programme's test-case
standard: one sheet per test category, a title row, a header row, item rows with a result
column marked "pass" / "no pass" (blank = not tested). The result column sits in a different
place on some sheets and its header is worded differently, because pre-screening finds it by
its values, not by its position or header."""
import xlwt

STANDARD = "微信刷脸支付-桌面收银测试用例v1.4"
CATEGORIES = ["气候类可靠性", "机械类可靠性", "涂层类可靠性", "基本功能测试", "性能测试"]
ITEMS = {
    "气候类可靠性": ["高温工作", "低温工作", "温升测试", "恒定湿热", "温度冲击"],
    "机械类可靠性": ["跌落测试", "振动测试", "按键寿命", "线材摇摆"],
    "涂层类可靠性": ["附着力", "耐磨测试", "耐酒精测试"],
    "基本功能测试": ["开机启动", "刷脸支付", "扫码支付", "网络切换", "蓝牙连接"],
    "性能测试": ["识别速度", "支付时延", "连续交易", "待机功耗"],
}


def sheet(book, name, results, layout=0):
    s = book.add_sheet(name)
    s.write(0, 0, STANDARD + " " + name)
    if layout == 0:
        header = ["序号", "测试项目", "测试条件", "判定标准", "测试结果", "备注"]
        res_col = 4
    else:  # result column before the remarks, worded differently, an extra column
        header = ["编号", "测试项", "测试方法", "Result", "测试人员", "备注"]
        res_col = 3
    for c, h in enumerate(header):
        s.write(1, c, h)
    for i, item in enumerate(ITEMS[name]):
        r = i + 2
        s.write(r, 0, i + 1)
        s.write(r, 1, item)
        s.write(r, 2, "按标准条件执行")
        if layout == 0:
            s.write(r, 3, "功能正常，外观无异常")
        else:
            s.write(r, 4, "张工")
        res = results[i] if i < len(results) else "pass"
        if res is not None:
            s.write(r, res_col, res)


def hardware(path, results=None, drop=None, layouts=None):
    results = results or {}
    layouts = layouts or {"机械类可靠性": 1, "性能测试": 1}
    book = xlwt.Workbook(encoding="utf-8")
    for name in CATEGORIES:
        if name == drop:
            continue
        sheet(book, name, results.get(name, []), layouts.get(name, 0))
    book.save(path)


def software(path, title, rows):
    book = xlwt.Workbook(encoding="utf-8")
    s = book.add_sheet(title)
    for c, h in enumerate(["序号", "检测项", "检测结果", "截图"]):
        s.write(0, c, h)
    for i, (item, res) in enumerate(rows):
        s.write(i + 1, 0, i + 1)
        s.write(i + 1, 1, item)
        if res is not None:
            s.write(i + 1, 2, res)
    book.save(path)


hardware("hardware-all-pass.xls")
hardware("hardware-some-blank.xls", {
    "气候类可靠性": ["pass", None, "pass", None, "no pass"],
    "涂层类可靠性": [None, "PASS", None],
    "性能测试": ["pass", "pass", None, None],
})
hardware("hardware-missing-sheet.xls", drop="涂层类可靠性")
hardware("hardware-nothing-marked.xls", {"性能测试": [None, None, None, None]})
hardware("hardware-stray-value.xls", {"基本功能测试": ["pass", "pass", "待复测", "pass", "pass"]})
software("software-results.xls", "软件预检测结果", [("人脸识别", "pass"), ("支付流程", "pass"), ("离线模式", "NA"), ("日志上报", "no pass")])
software("camera-checklist.xls", "摄像头测试Checklist", [("分辨率", "pass"), ("压力测试", "pass"), ("夜间成像", "NA")])
