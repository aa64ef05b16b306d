"""The Chinese help of the identity and access commands (``guotu dept|user|role|policy|token|
audit|admin``), merged into :data:`~guotu.cli.help_zh.commands.COMMANDS`,
:data:`~guotu.cli.help_zh.options.OPTIONS` and :data:`~guotu.cli.help_zh.click_words.PLACEHOLDERS`."""

from __future__ import annotations

from guotu.cli.help_zh.catalogue import Entry

__all__ = ["ACCESS_COMMANDS", "ACCESS_OPTIONS", "ACCESS_PLACEHOLDERS"]

ACCESS_COMMANDS: dict[str, Entry] = {
    # -- departments
    "guotu dept": ("2ddb950e", "部门：科室、委办局、乡镇政府、设计单位。"),
    "guotu dept add": ("47d7380f", "新建部门。"),
    "guotu dept list": ("1ed9ab17", "列出各部门及其类型、辖区和用户数。"),
    "guotu dept set": ("4abf310b", "修改部门的名称、类型、辖区或启用状态。"),
    # -- accounts
    "guotu user": ("bffe597e", "用户账号：新建、列出、查看、授予角色、设置密码、停用、解锁。"),
    "guotu user add": (
        "a1fa5cf6",
        """新建账号；密码在隐藏的提示下输入两次。

\b
示例：
  guotu user add 用户名 --name 李四 --dept 部门编号 --role 角色 -w county.gpkg
  guotu user add 用户名 --name 李四 --role 角色 --generate-password -w county.gpkg
  （或用 --password-stdin 从标准输入的第一行读入密码）""",
    ),
    "guotu user list": ("859353d3", "列出各账号及其部门、角色和状态。"),
    "guotu user show": ("c2b37242", "查看账号：部门、角色和权限、状态、访问令牌及变更记录。"),
    "guotu user set-roles": (
        "0699aa9e",
        """把账号的角色设为所给的这些角色（按三员分立检查）。

\b
示例：
  guotu user set-roles 用户名 角色 角色 -w county.gpkg""",
    ),
    "guotu user passwd": (
        "d48615a3",
        "设置本地账号的密码（在隐藏的提示下输入两次）；该账号已登录的会话随之结束。",
    ),
    "guotu user disable": (
        "31d0d739",
        "停用账号：不能再登录，已登录的会话结束，其访问令牌失效。",
    ),
    "guotu user enable": ("52bb64a6", "启用已停用的账号。"),
    "guotu user unlock": ("7ed27a6d", "解除因连续登录失败而加的锁定（并清除失败次数）。"),
    # -- roles
    "guotu role": ("5154ab7d", "访问角色及其权限。"),
    "guotu role list": ("6cd7825c", "列出各访问角色及其权限，以及三员分立的规则。"),
    # -- layer policies
    "guotu policy": ("18374f31", "图层的开放等级和访问策略。"),
    "guotu policy set": (
        "f63f0d13",
        """设置图层的开放等级，以及谁可以查看、导出、编辑它（替换该图层原有的策略）。

\b
示例：
  guotu policy set YJJBNT --grade 受限 --read 部门编号,角色 --export 部门编号 -w county.gpkg
  guotu policy set DLTB --grade 内部 --hide-field ZLDWMC:部门编号 --region-field XZQDM -w county.gpkg""",
    ),
    "guotu policy list": ("df852193", "列出各图层的开放等级和访问名单（没有策略的图层为内部）。"),
    # -- access tokens
    "guotu token": ("760f7774", "个人访问令牌：供 QGIS 等软件和脚本访问服务时使用。"),
    "guotu token add": (
        "1a4707b3",
        """为用户创建访问令牌，只显示这一次，并给出在 QGIS 等软件中的用法。

\b
示例：
  guotu token add 用户名 --name 办公电脑QGIS -w county.gpkg
  guotu token add 用户名 --name 数据下载 --scope read --scope export --days 30 -w county.gpkg""",
    ),
    "guotu token list": (
        "31db7272",
        "列出访问令牌（不显示令牌本身）：所属账号、名称、权限、到期时间、状态。",
    ),
    "guotu token revoke": ("359b09a9", "撤销访问令牌：立即失效。"),
    # -- signing the command line in (guotu login, logout, whoami)
    "guotu login": (
        "224cface",
        """登录 PostgreSQL 工作空间：此后在该工作空间上运行的命令以 用户名（默认为操作系统用户）的身份，按其角色和图层访问策略执行。

\b
示例：
  guotu login 用户名 -w env:GUOTU_PG_DSN
  guotu login 用户名 -w env:GUOTU_PG_DSN --password-stdin --days 7
  （--password-stdin 从标准输入的第一行读入密码）""",
    ),
    "guotu logout": (
        "15547983",
        "退出 PostgreSQL 工作空间的登录：撤销 guotu login 保存的访问令牌并将其删除。",
    ),
    "guotu passwd": (
        "9076fed6",
        """修改本人的密码（用户名，默认为操作系统用户）：在隐藏的提示下输入当前密码，再输入两次新密码。修改后本人的网页登录全部结束，访问令牌不受影响。

\b
示例：
  guotu passwd 用户名 -w env:GUOTU_PG_DSN
  guotu passwd 用户名 -w county.gpkg --password-stdin
  （--password-stdin 从标准输入的前两行依次读入当前密码和新密码）""",
    ),
    "guotu whoami": (
        "bde438ed",
        "在该工作空间上运行的命令以谁的身份执行：用户、角色、权限、部门、辖区。",
    ),
    # -- the audit log
    "guotu audit": ("40205cce", "审计日志：检查其完整性，查询和导出。"),
    "guotu audit verify": (
        "df5ff96d",
        "检查审计日志的哈希链：没有记录被改动或删除时退出码为 0；否则逐条列出这些记录，退出码为 1。",
    ),
    "guotu audit search": (
        "10965d1a",
        """查询审计日志，最新的在前；--json 和 --csv 导出查到的记录。

\b
示例：
  guotu audit search -w county.gpkg --actor 用户名 --since 2026-01-01
  guotu audit search -w county.gpkg --object layer:YJJBNT --csv 永久基本农田访问记录.csv
  guotu audit search -w county.gpkg --department 部门编号 --json""",
    ),
    # -- the first administrators
    "guotu admin": ("44dc46d0", "工作空间的首批管理员。"),
    "guotu admin init": (
        "86b90b09",
        "为还没有账号的工作空间创建首批管理员：系统管理员、安全管理员、审计管理员，须为三个不同的人"
        "（三员分立），各自的初始密码随机生成，只显示这一次。工作空间已有账号时拒绝执行。",
    ),
}

ACCESS_OPTIONS: dict[str, Entry] = {
    "guotu demo --no-accounts": (
        "839eee59",
        "不生成部门、账号和图层开放等级（默认生成，并在最后显示一次各账号的密码）。",
    ),
    # dept add / set
    "guotu dept add --name": ("b9f3527b", "部门名称，如 耕地保护科。"),
    "guotu dept add --kind": (
        "e208d83e",
        "部门类型：内部（政府内部门）或 外部（设计单位、承包单位等）。",
    ),
    "guotu dept add --region": (
        "b82debe6",
        "该部门限于的行政区代码前缀（乡镇如 370999101）；可重复。",
    ),
    "guotu dept set --name": ("a8262a7b", "新名称。"),
    "guotu dept set --kind": ("e1dc0d54", "内部 或 外部。"),
    "guotu dept set --region": ("3eaf8475", "把辖区换成这些行政区代码前缀（可重复）。"),
    "guotu dept set --no-regions": ("1cf1f3a5", "去掉全部辖区（该部门面向整个工作空间）。"),
    "guotu dept set --active": ("88d550f9", "启用或停用该部门。"),
    # user add / passwd
    "guotu user add --name": ("e0808b75", "本人姓名，如 李四。"),
    "guotu user add --dept": ("134e785f", "部门编号（见 guotu dept list）。"),
    "guotu user add --role": (
        "6283cb8c",
        "访问角色编号（见 guotu role list）；可重复，或用逗号分隔。",
    ),
    "guotu user add --ldap": (
        "5abaac18",
        "该账号通过单位的目录服务器登录：本系统不保存其密码。",
    ),
    "guotu user add --password-stdin": (
        "9e40e36a",
        "从标准输入的第一行读入密码（代替提示输入）。",
    ),
    "guotu user add --generate-password": ("31010fce", "随机生成密码并显示一次（代替提示输入）。"),
    "guotu user passwd --password-stdin": (
        "9e40e36a",
        "从标准输入的第一行读入密码（代替提示输入）。",
    ),
    "guotu user passwd --generate-password": (
        "31010fce",
        "随机生成密码并显示一次（代替提示输入）。",
    ),
    # policy set
    "guotu policy set --grade": ("952ec908", "开放等级：公开、内部 或 受限。"),
    "guotu policy set --read": (
        "847cde3d",
        "可以查看该图层的角色或部门（可重复，或用逗号分隔；某编号既是角色又是部门时，写作 "
        "角色:编号 或 部门:编号）。",
    ),
    "guotu policy set --export": ("46c997ae", "可以导出该图层的角色或部门（写法同 --read）。"),
    "guotu policy set --edit": ("3e0956d9", "可以编辑该图层的角色或部门（写法同 --read）。"),
    "guotu policy set --hide-field": (
        "09738852",
        "隐藏字段（权利人姓名、身份证号等），只有冒号后所列的角色或部门可见："
        "写作 字段 或 字段:角色或部门,…（可重复）。",
    ),
    "guotu policy set --region-field": (
        "450b31c3",
        "行政区代码字段（XZQDM）：乡镇用户只能看到本行政区的要素。",
    ),
    # token add / list
    "guotu token add --name": ("fb4e1bcf", "令牌的用途，如 办公电脑 QGIS。"),
    "guotu token add --scope": (
        "0a0f5238",
        "令牌的权限：read（查看）、export（导出）；可重复，默认 read。",
    ),
    "guotu token add --days": ("9d860b7a", "有效天数（最多 365 天）。"),
    "guotu token add --server": ("1a2927cf", "服务器地址，用于显示 QGIS 等软件中的用法示例。"),
    "guotu token add --password-stdin": (
        "9e40e36a",
        "从标准输入的第一行读入密码（代替提示输入）。",
    ),
    # login
    "guotu login --password-stdin": (
        "9e40e36a",
        "从标准输入的第一行读入密码（代替提示输入）。",
    ),
    "guotu login --days": ("dd75b8d4", "登录的有效天数（最多 30 天）。"),
    # passwd
    "guotu passwd --password-stdin": (
        "384f6bea",
        "从标准输入的前两行依次读入当前密码和新密码（代替提示输入）。",
    ),
    "guotu token list --user": ("303d4f82", "只列出这个用户的令牌。"),
    # audit search
    "guotu audit search --actor": ("fa5252ec", "只列出这个用户（按记录中的用户名）的记录。"),
    "guotu audit search --action": (
        "cb22b2ce",
        "只列出这一类操作（登录、登录失败、新建账号、授予角色、写入图层等，写作操作编号）。",
    ),
    "guotu audit search --object": (
        "152a34ba",
        "只列出与该对象有关的记录：写作 对象类型:名称（如 layer:YJJBNT），或只写其开头部分。",
    ),
    "guotu audit search --department": ("4dedbd65", "只列出该部门用户的记录。"),
    "guotu audit search --since": ("9554a6bc", "自该时间起（本机时间）。"),
    "guotu audit search --until": (
        "de155882",
        "到该时间为止（本机时间）；只写日期时包含当天全天。",
    ),
    "guotu audit search --limit": (
        "1b234878",
        "最多列出这么多条（最新的；默认屏幕上 100 条，导出时全部）。",
    ),
    "guotu audit search --csv": (
        "5848c683",
        "把查到的记录导出为 CSV 文件（带字节顺序标记的 UTF-8，可直接用电子表格软件打开）。",
    ),
    # admin init
    "guotu admin init --username": ("04ea2734", "系统管理员的用户名（管理账号和部门）。"),
    "guotu admin init --security-username": (
        "0b4902d4",
        "安全管理员的用户名（授予角色、设置开放等级）。",
    ),
    "guotu admin init --audit-username": ("bf6afefe", "审计管理员的用户名（查阅审计日志）。"),
}

ACCESS_PLACEHOLDERS: dict[str, str] = {
    "USERNAME": "用户名",
    "ROLE": "角色",
    "ROLES": "角色",
    "DEPT_ID": "部门编号",
    "TOKEN_ID": "令牌编号",
    "KIND": "类型",
    "GRADE": "开放等级",
    "WHO": "角色或部门",
    "FIELD": "字段",
    "URL": "地址",
}
