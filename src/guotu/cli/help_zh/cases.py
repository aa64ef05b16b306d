"""The Chinese help of the approval-case commands (``guotu case …``), merged into
:data:`~guotu.cli.help_zh.commands.COMMANDS`, :data:`~guotu.cli.help_zh.options.OPTIONS` and
:data:`~guotu.cli.help_zh.click_words.PLACEHOLDERS`."""

from __future__ import annotations

from guotu.cli.help_zh.catalogue import Entry

__all__ = ["CASE_COMMANDS", "CASE_OPTIONS", "CASE_PLACEHOLDERS"]

CASE_COMMANDS: dict[str, Entry] = {
    "guotu case": ("f6d39617", "审批案件（多审合一）：窗口受理、会审意见、审批决定、核发文书。"),
    "guotu case procedures": (
        "d754cfe3",
        "可受理案件的审批流程（内置流程和本机关的地方配置）：各环节及其期限（工作日）、办理人、"
        "各结果的去向、法定依据（未经核对的注明“未核对”）和申请材料。",
    ),
    "guotu case new": (
        "2a1c7531",
        """窗口受理（一窗受理）：登记案件，除非加 --no-accept，即予受理；随即运行规划符合性自动审查，并显示案件的去向。

\b
示例：
  guotu case new 流程编号 -w county.gpkg --applicant 示范县城投公司 \\
      --project 城关镇安置房 --location 城关镇 --site 用地范围.geojson \\
      --indicator YDYHFLDM=0701 --indicator RJL=2.0
  （流程编号见 guotu case procedures）""",
    ),
    "guotu case list": (
        "37710c0a",
        "本人的案件：待办（等待本人办理，按到期先后）、已办（本人办理过）、督办（在办且已超期）、"
        "在办或全部。",
    ),
    "guotu case show": (
        "fef56cb7",
        "某一时刻的案件：登记信息、各环节及其计时（已用工作日/期限、超期、补正中）、会审意见、"
        "自动审查结果、材料和已核发的文书。",
    ),
    "guotu case act": (
        "374ceba7",
        """办理当前环节（本环节的办理人）：按本环节的结果填写，如 完成、补正、批准、有条件批准、不予批准（也可写流程中的结果编号）。

\b
示例：
  guotu case act 2026000001 完成 -w county.gpkg --note 技术审查通过
  guotu case act 2026000001 有条件批准 -w county.gpkg""",
    ),
    "guotu case opinion": (
        "c45e809a",
        """在并联会审中出具本部门意见：同意、有条件同意、不同意；有条件同意须写明条件，不同意须写明理由。

\b
示例：
  guotu case opinion 2026000001 有条件同意 -w county.gpkg --condition 退让道路红线10米""",
    ),
    "guotu case pause": (
        "ccd334fe",
        "要求申请人补正材料（补正）：本环节计时暂停，直至 guotu case resume。",
    ),
    "guotu case resume": ("56e5aa46", "材料已补正齐全：本环节恢复计时。"),
    "guotu case amend": (
        "c1b73127",
        "窗口在受理或补正环节修改申请内容（规划指标、用地范围），按申请人补正的材料；受理时的记录保留不变。",
    ),
    "guotu case attach": ("194194ea", "为在办案件提交材料（窗口，或当前环节的办理人）。"),
    "guotu case document": (
        "7b20c858",
        "写出案件核发的决定文书 PDF（许可证、意见书、不予许可决定书），与存档的原件一致。",
    ),
    "guotu case verify": (
        "243fc979",
        "核验文书：公开核验页面对文书验证码（或其二维码地址）显示的内容，即是否真实有效；"
        "公开的决定还显示其内容。",
    ),
    "guotu case stats": (
        "5c0ab365",
        "统计：在办案件按环节、各环节用时（平均和 90% 分位，补正时间不计）、超期办理次数、"
        "超期在办案件按待办部门。",
    ),
}

CASE_OPTIONS: dict[str, Entry] = {
    # case new
    "guotu case new --applicant": ("5f0460bf", "申请人。"),
    "guotu case new --project": ("b74160aa", "项目名称。"),
    "guotu case new --location": ("c6de1296", "位置（乡镇、道路等）。"),
    "guotu case new --site": ("9c2b6c60", "用地范围：只含一个面的 GeoJSON 文件。"),
    "guotu case new --site-wkt": (
        "a7198df5",
        "以几何文本给出用地范围；除非给出 --crs，坐标为工作空间坐标系。",
    ),
    "guotu case new --crs": (
        "65a18d96",
        "用地范围的坐标参考系，如 EPSG:4490（默认取文件中注明的，否则为工作空间的）。",
    ),
    "guotu case new --date": ("1ceb62c3", "申请日期：自动审查按该日的一张图进行（默认今天）。"),
    "guotu case new --indicator": ("e395b0f3", "规划指标，如 YDYHFLDM=0701、RJL=2.0（可重复）。"),
    "guotu case new --contact": ("5ba3ac7c", "申请人的联系人、电话。"),
    "guotu case new --not-public": ("e815326b", "决定不公开：核验时只证明文书编号真实有效。"),
    "guotu case new --no-accept": ("d669b0d4", "只登记、暂不受理（材料不全）。"),
    "guotu case new --material": ("1c76f40f", "随申请提交的材料（可重复）。"),
    # case list, stats
    "guotu case list --box": (
        "e5b628c5",
        "列表：todo 待办（等待本人办理）、done 已办（本人办理过）、overdue 督办（已超期）、"
        "open 在办、all 全部。",
    ),
    "guotu case list --procedure": ("e7467150", "只列出此流程的案件。"),
    "guotu case stats --procedure": ("e7467150", "只统计此流程的案件。"),
    # case show
    "guotu case show --as-of": (
        "f375621c",
        "按此时刻查看案件，如 2026-03-02 14:30（只写日期则为当日结束时；默认现在）。",
    ),
    # recording
    "guotu case act --note": ("d0500322", "办理意见：做了什么，或理由。"),
    "guotu case opinion --condition": ("093b234a", "有条件同意的条件（可重复）。"),
    "guotu case opinion --note": ("e322c851", "理由（不同意时必填）或说明。"),
    "guotu case pause --note": ("e4fb31a9", "需要申请人补正的全部内容（一次告知）。"),
    "guotu case resume --note": ("d7acd3a9", "补正了哪些材料。"),
    "guotu case amend --indicator": ("0dd5fab9", "修改后的规划指标（如 RJL=1.2），可重复。"),
    "guotu case amend --site": (
        "24858a68",
        "修改后的用地范围（工作空间坐标系的 GeoJSON，否则用 --crs 指明）。",
    ),
    "guotu case amend --site-wkt": (
        "ea473a03",
        "以几何文本给出修改后的用地范围；除非给出 --crs，坐标为工作空间坐标系。",
    ),
    "guotu case amend --crs": ("62dae6ac", "--site 或 --site-wkt 的坐标系（与工作空间不同时）。"),
    "guotu case amend --note": ("2ee17d33", "修改了什么（按申请人补正的内容）。"),
    "guotu case attach --material": ("041fceef", "所提交的是流程要求的哪一项材料。"),
    # documents
    "guotu case document --output": (
        "8c4ddc20",
        "把 PDF 写到这里（默认以文书编号为文件名，如 建字第2026000001号.pdf）。",
    ),
}

CASE_PLACEHOLDERS: dict[str, str] = {
    "CASE": "案件编号",
    "OUTCOME": "结果",
    "OPINION": "意见",
    "PROCEDURE": "流程编号",
    "NAME=FILE": "材料名称=文件",
    "guotu case verify TOKEN": "验证码",
    "guotu case attach --material": "材料名称",
}
