"""Past postmortems: ingestion, chunking, embeddings, Chroma store and hybrid search.

Built with the retrieval issue; the demo ships the Markdown postmortems it will index
(``bot/demo/postmortems``).
"""
