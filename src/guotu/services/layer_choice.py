"""Which workspace layer of a role a use case reads, when the workspace may hold several.

A workspace can hold two layers of one role (two 生态保护红线 imports, an old and a new
planned land use under different names). A use case that needs "the layer of role X" never
guesses between them: with one layer of the role it takes it, with none it has none, and
with several it is refused with the candidates and the option that chooses one
(``--layer`` for the layer under review, ``--use-layer`` for the others).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from guotu.domain.core.catalog import LayerInfo
from guotu.domain.core.roles import get_role
from guotu.errors import ConfigError
from guotu.ports import FeatureStore

__all__ = ["USE_LAYER_OPTION", "check_chosen_layers", "layer_of_role"]

#: The command-line option that chooses a layer of a role (repeatable).
USE_LAYER_OPTION = "--use-layer"


def check_chosen_layers(store: FeatureStore, chosen: Iterable[str]) -> None:
    """Every chosen layer name must be a layer of the workspace (``NotFoundError``, listing
    the layers there are, otherwise)."""
    for name in chosen:
        store.layer(name)


def layer_of_role(
    store: FeatureStore,
    role: str,
    *,
    chosen: Sequence[str] = (),
    option: str = USE_LAYER_OPTION,
    candidates: Sequence[LayerInfo] | None = None,
) -> LayerInfo | None:
    """The layer of ``role`` to use, or ``None`` when there is none.

    Parameters
    ----------
    chosen
        Layer names the user chose (``--use-layer``); the one of ``role`` among them wins.
    option
        The option that chooses a layer, named in the refusal.
    candidates
        The layers to choose from (default: every layer of ``role`` in the workspace).

    Raises
    ------
    ConfigError
        Several layers of ``role`` and none (or more than one) of them chosen.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> layer_of_role(MemoryStore(), "ecological_redline", chosen=["STBHHX_2025"]) is None
    True
    """
    infos: list[LayerInfo] = list(
        store.layers_with_role(role) if candidates is None else candidates
    )
    picked = [i for i in infos if i.name in set(chosen)]
    if len(picked) == 1:
        return picked[0]
    if not picked and len(infos) <= 1:
        return infos[0] if infos else None
    raise _ambiguous(role, picked or infos, option)


def _ambiguous(role: str, infos: Sequence[LayerInfo], option: str) -> ConfigError:
    names = [str(i.name) for i in infos]
    role_zh = get_role(role).name_zh
    return ConfigError(
        f"The workspace has {len(names)} layers of role {role}: {', '.join(names)}; which "
        "one to use is not guessed.",
        fix=f"Choose one with {option} NAME (e.g. {option} {names[0]}).",
        message_zh=f"工作空间中有 {len(names)} 个“{role_zh}”图层（{role}）：{'、'.join(names)}，"
        "不能确定使用哪一个。",
        fix_zh=f"请用 {option} 图层名 指定其中一个（如 {option} {names[0]}）。",
    )
