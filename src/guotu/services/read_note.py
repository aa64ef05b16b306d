"""Which version of a layer a read used, said in words on every command that reads one.

Every read of a layer resolves one version of its plan: the one in force on ``as_of`` as
known at ``known_at`` (DESIGN §4). A command that prints figures says which version they
come from; a read that finds no version says why, instead of printing an empty table: the
plan had recorded nothing yet at ``known_at`` (guotu learned of every version later), no
version was in force on ``as_of`` (before the first one began, after the last one ended),
or there are only drafts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from guotu.domain.core.model import DECIDING, Version
from guotu.domain.core.plan_labels import is_implicit_plan, plan_version_label
from guotu.ports import FeatureStore

__all__ = ["ReadNote", "describe_read"]

_STATUS_ZH = {
    "drafting": "编制中",
    "publicity": "公示",
    "submitted": "报批",
    "approved": "批复",
    "amended": "修改",
    "repealed": "废止",
}


@dataclass(frozen=True)
class ReadNote:
    """What a read of ``layer`` used: its ``version`` (``None``: nothing in force) and the
    sentence saying so in Chinese and English."""

    layer: str
    version: Version | None
    plan: str | None
    zh: str
    en: str
    role: str = ""

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return self.en if lang == "en" else self.zh

    def to_dict(self) -> dict[str, object]:
        """JSON form: layer, plan, version label and id, the plan and version as people read
        them (``plan_version_label``), and the two sentences."""
        v = self.version
        return {
            "layer": self.layer,
            "plan": self.plan,
            "version": v.label if v else None,
            "version_id": v.id if v else None,
            "plan_version_label": plan_version_label(
                self.plan, v.label if v else None, role=self.role or None
            ),
            "status": v.status.value if v else None,
            "valid_from": v.valid_from.isoformat() if v and v.valid_from else None,
            "recorded_at": v.recorded_at.isoformat() if v else None,
            "text_zh": self.zh,
            "text_en": self.en,
        }


def _moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def describe_read(
    store: FeatureStore, layer: str, *, as_of: date | None = None, known_at: datetime | None = None
) -> ReadNote:
    """The version a read of ``layer`` at these times uses, or why there is none."""
    info = store.layer(layer)
    version = store.layer_version(layer, as_of=as_of, known_at=known_at)
    plan = info.plan or None
    shown_plan = None if plan is None or is_implicit_plan(plan) else plan
    if version is not None:
        parts_zh, parts_en = [], []
        if shown_plan:
            parts_zh.append(f"规划 {shown_plan}")
            parts_en.append(f"plan {shown_plan}")
        parts_zh.append(_STATUS_ZH.get(version.status.value, version.status.value))
        parts_en.append(version.status.value)
        if version.valid_from:
            parts_zh.append(f"{version.valid_from.isoformat()} 起现行")
            parts_en.append(f"in force from {version.valid_from.isoformat()}")
        parts_zh.append(f"{_moment(version.recorded_at)} 登记")
        parts_en.append(f"recorded {_moment(version.recorded_at)}")
        return ReadNote(
            layer,
            version,
            plan,
            f"数据版本：{layer} {version.label}（{'，'.join(parts_zh)}）",
            f"Data version: {layer} {version.label} ({', '.join(parts_en)})",
            info.role,
        )
    zh, en = _why_none(store, layer, plan, as_of, known_at)
    return ReadNote(layer, None, plan, zh, en, info.role)


def _why_none(
    store: FeatureStore, layer: str, plan: str | None, as_of: date | None, known_at: datetime | None
) -> tuple[str, str]:
    recorded = store.versions(plan) if plan else []
    day = (as_of or date.today()).isoformat()
    if known_at is not None:
        known = [v for v in recorded if v.recorded_at <= known_at]
        if not known and recorded:
            first = min(recorded, key=lambda v: v.recorded_at)
            return (
                f"按 {_moment(known_at)} 时所知，图层 {layer} 还没有任何版本：最早的版本 "
                f"{first.label} 于 {_moment(first.recorded_at)} 才登记（--known-at 是系统"
                "得知的时间，不是规划生效的时间；生效时间请用 --as-of）。",
                f"As known at {_moment(known_at)}, layer {layer} had no version yet: the "
                f"first, {first.label}, was recorded at {_moment(first.recorded_at)} "
                "(--known-at is when guotu learned of a version, not when it came into "
                "force; that is --as-of).",
            )
        recorded = known
    deciding = [v for v in recorded if v.status in DECIDING]
    if recorded and not deciding:
        return (
            f"图层 {layer} 只有未批复的版本（{'、'.join(v.label for v in recorded)}），"
            f"{day} 没有现行版本。",
            f"Layer {layer} has only versions not yet approved "
            f"({', '.join(v.label for v in recorded)}): none in force on {day}.",
        )
    spans_zh = [
        f"{v.label} "
        + (f"{v.valid_from.isoformat()} 起" if v.valid_from else "起始不限")
        + (f"至 {v.valid_to.isoformat()}" if v.valid_to else "")
        for v in deciding
    ]
    spans_en = [
        f"{v.label} from {v.valid_from.isoformat() if v.valid_from else 'any date'}"
        + (f" to {v.valid_to.isoformat()}" if v.valid_to else "")
        for v in deciding
    ]
    return (
        f"图层 {layer} 在 {day} 没有现行版本（各版本的生效期：{'；'.join(spans_zh) or '无'}）。",
        f"Layer {layer} has no version in force on {day} (valid times: "
        f"{'; '.join(spans_en) or 'none'}).",
    )
