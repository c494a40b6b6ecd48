"""The collector's shape cache (texts that differ only in literals share one fingerprint) never gives a
text another fingerprint than :func:`fingerprint` itself would."""

from __future__ import annotations

import pytest

from apiaudit.db.fingerprint import fingerprint
from apiaudit.db.logs.collector import Collector

TEXTS = [
    "SELECT * FROM t WHERE a = 1", "SELECT * FROM t WHERE a = 22", "SELECT * FROM t WHERE a = -3",
    "SELECT * FROM t WHERE a = 1.5", "SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = 'it''s'",
    "SELECT * FROM t WHERE a = E'x\\n'", "SELECT * FROM t WHERE a IN (1, 2)", "SELECT * FROM t WHERE a IN (1, 2, 3)",
    "SELECT title_1, title_2 FROM t LIMIT 21", "SELECT title_1, title_2 FROM t LIMIT 1",
    "SELECT t.x1 FROM t WHERE t.id = '6f1c2b1e-0000-4a4a-8888-000000000001'::uuid::UUID",
    "SELECT t.x1 FROM t WHERE t.id = '6f1c2b1e-0000-4a4a-8888-000000000002'::uuid::UUID",
    "SELECT * FROM t WHERE a = true", "SELECT * FROM t WHERE a = false", "SELECT * FROM t WHERE a = 1e5",
    "SELECT * FROM t WHERE a = 2e5", "SELECT * FROM t /* route=/a/1 */ WHERE a = 1",
    "SELECT * FROM t WHERE a = interval '2 days'", "SELECT * FROM t WHERE a = interval '1 hour'",
    "SELECT 1", "SELECT 2", "SELECT '1'",
]


@pytest.mark.parametrize("order", [TEXTS, TEXTS[::-1]])
def test_shape_cache_agrees_with_fingerprint(order: list[str]) -> None:
    coll = Collector()
    for text in order:
        assert coll.statement("s", None, text, None, None).fp == fingerprint(text)[0], text
