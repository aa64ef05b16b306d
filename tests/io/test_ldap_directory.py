"""guotu.io.ldap_directory against a real OpenLDAP slapd (scripts/ldap-throwaway).

The server holds a county bureau's directory: six people in four departments, four guotu
groups (groupOfNames) and one POSIX group. Without Debian's slapd the tests skip, except
under ``CI=true``, where they fail (``.ci/run`` installs slapd and ldap-utils).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from guotu.errors import ConfigError, DirectoryUnavailableError
from guotu.io.ldap_directory import DirectoryUser, LdapSettings, authenticate

from ..conftest import unavailable

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ldap-throwaway"
SUFFIX = "dc=guotu,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=guotu-service,{SUFFIX}"


@dataclass(frozen=True)
class Directory:
    url: str
    path: Path
    passwords: dict[str, str]  # uid → password, from users.txt
    service_password: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def throwaway(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GUOTU_LDAP_NO_INSTALL": "1"}  # tests never install: .ci/run does
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def start(path: Path) -> Directory:
    """A running slapd with the test directory in ``path`` (skips without slapd)."""
    started = throwaway("start", str(path), str(free_port()))
    if started.returncode == 3:
        unavailable(started.stderr.strip())
    assert started.returncode == 0, started.stderr
    lines = (path / "users.txt").read_text(encoding="utf-8").splitlines()
    return Directory(
        url=started.stdout.strip(),
        path=path,
        passwords=dict(line.split("\t") for line in lines),
        service_password=(path / "service.pw").read_text(),
    )


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    path = tmp_path_factory.mktemp("ldap")
    try:
        yield start(path)
    finally:
        throwaway("stop", str(path))


def search_settings(directory: Directory, **changes: str) -> LdapSettings:
    """Search, then bind, as guotu's read-only service account."""
    settings = LdapSettings(
        directory.url,
        search_base=PEOPLE,
        service_dn=SERVICE_DN,
        service_password=directory.service_password,
        group_base=GROUPS,
    )
    return dataclasses.replace(settings, **changes)


def direct_settings(directory: Directory) -> LdapSettings:
    """Bind straight to uid={username},ou=people,… and read the entry as the person."""
    return LdapSettings(
        directory.url, user_dn_template=f"uid={{username}},{PEOPLE}", group_base=GROUPS
    )


@pytest.fixture(params=["search-then-bind", "direct-bind"])
def settings(request: pytest.FixtureRequest, directory: Directory) -> LdapSettings:
    return (search_settings if request.param == "search-then-bind" else direct_settings)(directory)


@pytest.mark.parametrize(
    ("uid", "display_name", "department", "groups"),
    [
        # one person in each department the directory has
        ("zhangwei", "张伟", "国土空间规划科", ("guotu-editors", "guotu-viewers")),
        ("lina", "李娜", "耕地保护科", ("guotu-reviewers", "guotu-viewers")),
        ("wangfang", "王芳", "乡镇", ("guotu-viewers",)),
        ("liuyang", "刘洋", "设计单位", ("guotu-editors",)),
        # in three groups
        (
            "chenjing",
            "陈静",
            "国土空间规划科",
            ("guotu-admins", "guotu-reviewers", "guotu-viewers"),
        ),
        # in no groupOfNames (only the POSIX group county-staff, which is not a guotu group)
        ("zhaolei", "赵磊", "耕地保护科", ()),
    ],
)
def test_right_password_gives_the_person_with_their_groups(
    settings: LdapSettings,
    directory: Directory,
    uid: str,
    display_name: str,
    department: str,
    groups: tuple[str, ...],
) -> None:
    assert authenticate(settings, uid, directory.passwords[uid]) == DirectoryUser(
        username=uid,
        display_name=display_name,
        email=f"{uid}@guotu.test",
        department=department,
        groups=groups,
        dn=f"uid={uid},{PEOPLE}",
    )


def test_username_is_the_directorys_spelling(settings: LdapSettings, directory: Directory) -> None:
    user = authenticate(settings, "ZhangWei", directory.passwords["zhangwei"])
    assert user is not None and user.username == "zhangwei"


def test_wrong_password_gives_none(settings: LdapSettings, directory: Directory) -> None:
    assert authenticate(settings, "zhangwei", directory.passwords["lina"]) is None


def test_unknown_user_gives_none(settings: LdapSettings, directory: Directory) -> None:
    assert authenticate(settings, "nobody", directory.passwords["zhangwei"]) is None


def test_empty_password_gives_none(settings: LdapSettings) -> None:
    assert authenticate(settings, "zhangwei", "") is None


def test_empty_password_is_refused_before_the_server_is_asked() -> None:
    nothing_listens = LdapSettings(f"ldap://127.0.0.1:{free_port()}", search_base=PEOPLE)
    assert authenticate(nothing_listens, "zhangwei", "") is None


@pytest.mark.parametrize(
    "username",
    [
        "*",
        "zhang*",
        "zhangwei)(uid=*",
        ")(uid=*",
        "*)(|(uid=*",
        "zhangwei\\",
        "zhangwei,ou=people",
        "zhangwei\x00",
    ],
)
def test_filter_metacharacters_match_nobody(
    settings: LdapSettings, directory: Directory, username: str
) -> None:
    assert authenticate(settings, username, directory.passwords["zhangwei"]) is None


@pytest.mark.parametrize("username", ["*", "zhang*", "z*)(uid=*", "*)(objectClass=*"])
def test_filter_metacharacters_are_escaped(directory: Directory, username: str) -> None:
    # The search starts at zhangwei's own entry: an unescaped * would find him, and his
    # password would then sign in.
    narrowed = search_settings(directory, search_base=f"uid=zhangwei,{PEOPLE}")
    assert authenticate(narrowed, "zhangwei", directory.passwords["zhangwei"]) is not None
    assert authenticate(narrowed, username, directory.passwords["zhangwei"]) is None


def test_stopped_server_is_unavailable_naming_host_port_only(
    tmp_path: Path,
) -> None:
    stopped = start(tmp_path)
    throwaway("stop", str(tmp_path))
    password = stopped.passwords["zhangwei"]
    with pytest.raises(DirectoryUnavailableError) as caught:
        authenticate(search_settings(stopped), "zhangwei", password)
    host_port = stopped.url.removeprefix("ldap://")
    assert caught.value.message_zh == f"目录服务器 {host_port} 无法连接，暂时不能用目录账号登录。"
    shown = [caught.value.render("zh"), caught.value.render("en"), str(caught.value.to_dict())]
    for secret in (password, stopped.service_password, "dc=", "uid=", "Errno", "refused"):
        assert not any(secret in text for text in shown), secret
    assert (caught.value.exit_code, caught.value.http_status) == (3, 503)


def test_wrong_service_password_is_unavailable(directory: Directory) -> None:
    misconfigured = search_settings(directory, service_password="wrong")
    with pytest.raises(DirectoryUnavailableError, match="refuses the service account"):
        authenticate(misconfigured, "zhangwei", directory.passwords["zhangwei"])


def test_missing_search_base_is_unavailable(directory: Directory) -> None:
    misconfigured = search_settings(directory, search_base=f"ou=staff,{SUFFIX}")
    with pytest.raises(DirectoryUnavailableError, match="answers a search with an error"):
        authenticate(misconfigured, "zhangwei", directory.passwords["zhangwei"])


@pytest.mark.parametrize(
    "changes",
    [
        # not an LDAP URL, or no host, or a port that is not one
        {"url": "http://127.0.0.1:389"},
        {"url": "ldap://"},
        {"url": "ldap://127.0.0.1:ldap"},
        # both ways to find the person, or neither
        {"user_dn_template": f"uid={{username}},{PEOPLE}"},
        {"search_base": None},
        # a service DN without its password
        {"service_password": None},
        # a filter without the username
        {"user_filter": "(uid=zhangwei)"},
        # no time to answer
        {"receive_timeout_s": 0},
    ],
)
def test_bad_settings_are_a_config_error(changes: dict[str, object]) -> None:
    good = {
        "url": "ldap://127.0.0.1:389",
        "search_base": PEOPLE,
        "service_dn": SERVICE_DN,
        "service_password": "secret",
    }
    with pytest.raises(ConfigError):
        LdapSettings(**{**good, **changes})  # type: ignore[arg-type]
