"""forgekit.search: safe query terms, and pg_trgm's similarity reproduced for SQLite."""

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from forgekit.search import fts5_query, search_terms, similarity, tsquery
from forgekit.testing.servers import require_real_servers


def test_terms_are_words_only() -> None:
    assert search_terms('Foo "bar*" AND (baz) a:b & !c foo') == ["foo", "bar", "and", "baz",
                                                                  "a", "b", "c"]
    assert fts5_query(["foo", "bar"]) == '"foo"* "bar"*'
    assert tsquery(["it's"]) == "'it''s':*"


PAIRS = [("sentiment", "sentimnet"), ("image classifier", "imgae clasifier"), ("bert", "bart"),
         ("Whisper-small", "whisper small"), ("a", "completely different"), ("", "x"),
         ("résumé parser", "resume parser"), ("GPT2 fine-tuned", "gpt-2 finetuned")]


async def test_similarity_equals_pg_trgm() -> None:
    # The embedded database has no pg_trgm: the Python version must give the same numbers.
    # Needs the real PostgreSQL: fails (never skips) when it is down.
    url = make_url(require_real_servers().postgres_admin_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                 database=url.database or "postgres")  # fmt: skip
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for a, b in PAIRS:
            expected = await conn.fetchval("SELECT similarity($1, $2)", a, b)
            assert similarity(a, b) == pytest.approx(expected, abs=1e-6), (a, b)
    finally:
        await conn.close()


@settings(max_examples=200)
@given(st.text(max_size=40), st.text(max_size=40))
def test_similarity_is_a_symmetric_fraction(a: str, b: str) -> None:
    value = similarity(a, b)
    assert 0.0 <= value <= 1.0 and value == similarity(b, a)
    if search_terms(a):
        assert similarity(a, a) == 1.0
