"""Chunking, incremental indexing, scoped hybrid retrieval, offline answers, cache."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from actions.knowledge.cache import TTLCache, normalise_question
from core.knowledge.chunks import load_chunks, parse_markdown
from core.knowledge.index import sync_index
from actions.knowledge.service import KnowledgeService
from actions.settings import Settings

from core.paths import ROOT


def test_markdown_chunks_by_heading_with_metadata():
    text = "---\ntitle: Dogs\nurl: https://example.test/dogs\n---\n# Dogs\n\n## Dogs outside\nLeashed dogs are welcome.\n\n## Dogs inside\nNot inside.\n"
    chunks = parse_markdown(text, "visiting/dogs.md", "visiting")
    assert [c.heading for c in chunks] == ["Dogs outside", "Dogs inside"]
    assert chunks[0].id == "visiting/dogs.md#dogs-outside"
    assert chunks[0].url == "https://example.test/dogs" and chunks[0].domain == "visiting"
    assert chunks[0].hash != chunks[1].hash and len(chunks[0].hash) == 16


def test_every_knowledge_file_yields_chunks_with_unique_ids():
    chunks = load_chunks(ROOT / "knowledge")
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids))
    domains = {c.domain for c in chunks}
    assert {"visiting", "club", "loyalty", "events", "about", "wine", "hours"} <= domains
    hours = [c for c in chunks if c.domain == "hours"]
    assert hours and hours[0].time_sensitive and "Thanksgiving" in hours[0].text


@pytest.fixture()
def small_kb(tmp_path):
    kb = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge" / "visiting", kb / "visiting")
    shutil.copytree(ROOT / "knowledge" / "club", kb / "club")
    shutil.copy(ROOT / "knowledge" / "hours.yml", kb / "hours.yml")
    return Settings(knowledge_dir=kb, data_dir=tmp_path / "data", warm_on_start=False)


def test_reindex_embeds_only_changed_chunks_and_removes_deleted(small_kb, embedder):
    first = sync_index(small_kb, embedder)
    assert first.added > 10 and first.changed == first.removed == 0

    again = sync_index(small_kb, embedder)
    assert again.embedded_ids == [] and again.version == first.version

    policies = small_kb.knowledge_dir / "visiting" / "policies.md"
    policies.write_text(policies.read_text().replace("wheelchair accessible", "fully wheelchair accessible", 1))
    (small_kb.knowledge_dir / "club" / "shipping.md").unlink()
    changed = sync_index(small_kb, embedder)
    assert changed.changed == 1 and changed.added == 0
    assert all(i.startswith("visiting/policies.md#") for i in changed.embedded_ids)
    assert changed.removed >= 1 and changed.version != first.version

    service = KnowledgeService(small_kb, embedder=embedder)
    hits = service.retriever.search("can you ship wine to florida", ["club"], k=5)
    assert all(h.passage.source != "club/shipping.md" for h in hits)


def test_retrieval_is_scoped_to_the_intent_domain(service):
    hits = service.retriever.search("how much does it cost", ["loyalty"], k=3)
    assert hits and all(h.passage.domain == "loyalty" for h in hits)
    hits = service.retriever.search("can i bring my dog", ["visiting"], k=3)
    assert hits[0].passage.source == "visiting/policies.md"


def test_hybrid_retrieval_survives_typos(service):
    hits = service.retriever.search("how do i make a reservaton", ["visiting"], k=3)
    assert hits[0].passage.source == "visiting/reservations.md"


def test_unrelated_question_is_below_the_relevance_threshold(service):
    answer = asyncio.run(service.answer("what's the wifi password", None))
    assert not answer.found and answer.text == ""


def test_offline_answer_is_a_few_relevant_sentences_not_a_document(service):
    answer = asyncio.run(service.answer("can i bring my dog?", "ask_visit_policies"))
    assert answer.found and answer.mode == "offline"
    assert "leash" in answer.text.lower() and "outdoors" in answer.text.lower()
    assert len(answer.text) <= 320 and answer.text.count(". ") <= 3
    source = (ROOT / "knowledge" / "visiting" / "policies.md").read_text()
    assert len(answer.text) < len(source) / 3


def test_offline_answer_never_states_a_price_missing_from_passages(service):
    answer = asyncio.run(service.answer("how much is the private tour", "ask_tastings"))
    assert "$150" in answer.text
    passages = " ".join(h.passage.text for h in answer.hits)
    import re
    for price in re.findall(r"\$\d[\d,]*", answer.text):
        assert price in passages


def test_cache_hits_and_is_keyed_on_index_version(service):
    question = "What does the Grand Prix tier include?"
    first = asyncio.run(service.answer(question, "ask_club"))
    second = asyncio.run(service.answer("what does the grand prix tier include", "ask_club"))
    assert not first.cached and second.cached and second.text == first.text
    key = (normalise_question(question), ("club",), (), "another-version", service.mode)
    assert service.cache.get(key) is None


def test_hours_answers_are_never_cached(service):
    first = asyncio.run(service.answer("are you closed on thanksgiving", None))
    assert first.found and any(h.passage.time_sensitive for h in first.hits)
    second = asyncio.run(service.answer("are you closed on thanksgiving", None))
    assert not second.cached


def test_ttl_cache_expires_with_the_clock():
    now = [0.0]
    cache = TTLCache(ttl_s=10, clock=lambda: now[0])
    cache.put("k", "v")
    now[0] = 9.9
    assert cache.get("k") == "v"
    now[0] = 10.1
    assert cache.get("k") is None


def test_missing_index_is_rebuilt_on_start(tmp_path, embedder):
    settings = Settings(knowledge_dir=ROOT / "knowledge", data_dir=tmp_path / "fresh", warm_on_start=False)
    service = KnowledgeService(settings, embedder=embedder)
    assert service.retriever.version == "empty"
    service.ensure_index()
    assert service.retriever.version != "empty"
    assert asyncio.run(service.answer("which states do you ship to", "ask_shipping")).found
