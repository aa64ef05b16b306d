"""The hash chain that makes the audit log tamper-evident.

Each audit record carries the SHA-256 of its own content and of the record before it
(``hash = sha256(previous hash ‖ canonical JSON of the record)``), starting from a fixed genesis
value. Editing or deleting any record changes its hash or breaks the link of the next one, so
:func:`verify_chain` names the first record that no longer fits, and every record after a
deletion. The records are stored by the store (append-only); this module only computes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "ChainBreak", "chain_hash", "verify_chain"]

#: The "previous hash" of the first record.
GENESIS = "0" * 64


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(
        dict(record), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


def chain_hash(previous: str, record: Mapping[str, Any]) -> str:
    """The hash of ``record`` chained to ``previous`` (hex SHA-256).

    ``record`` holds the audited fields only (sequence number, time, user, action, object,
    detail …), never its own hash fields.

    Examples
    --------
    >>> h = chain_hash(GENESIS, {"seq": 1, "action": "sign_in", "user": "wang"})
    >>> len(h), h == chain_hash(GENESIS, {"user": "wang", "seq": 1, "action": "sign_in"})
    (64, True)
    """
    digest = hashlib.sha256()
    digest.update(previous.encode("ascii"))
    digest.update(b"\n")
    digest.update(_canonical(record))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """A record that does not fit the chain: its sequence number and why."""

    seq: int
    reason_zh: str
    reason_en: str


def verify_chain(records: Iterable[tuple[int, Mapping[str, Any], str, str]]) -> list[ChainBreak]:
    """Check ``(seq, fields, previous_hash, hash)`` records in sequence order.

    A record whose fields no longer give its hash was edited; one whose ``previous_hash`` is not
    the hash of the record before it (or whose sequence number skips) follows a deletion.

    Examples
    --------
    >>> a = {"seq": 1, "action": "sign_in"}; ha = chain_hash(GENESIS, a)
    >>> b = {"seq": 2, "action": "export"}; hb = chain_hash(ha, b)
    >>> verify_chain([(1, a, GENESIS, ha), (2, b, ha, hb)])
    []
    >>> [x.seq for x in verify_chain([(1, a, GENESIS, ha), (2, {**b, "action": "x"}, ha, hb)])]
    [2]
    >>> [x.reason_en for x in verify_chain([(2, b, ha, hb)])]
    ['the record before it (sequence 1) is missing']
    """
    out: list[ChainBreak] = []
    previous, expected_seq = GENESIS, 1
    for seq, fields, prev_hash, own_hash in records:
        if seq != expected_seq or prev_hash != previous:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
            if seq != expected_seq:
                out.append(
                    ChainBreak(
                        seq,
                        f"它之前的记录（序号 {missing}）已不存在",
                        f"the record before it (sequence {missing}) is missing",
                    )
                )
            else:
                out.append(
                    ChainBreak(
                        seq,
                        "它记载的前一条记录的哈希与前一条记录不符",
                        "the previous hash it records does not match the record before it",
                    )
                )
        elif chain_hash(prev_hash, fields) != own_hash:
            out.append(
                ChainBreak(
                    seq,
                    "记录内容与其哈希不符（记录被改动过）",
                    "its content does not match its hash (the record was changed)",
                )
            )
        previous, expected_seq = own_hash, seq + 1
    return out
