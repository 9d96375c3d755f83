"""The knowledge index, built by the action server and the jobs process alike:
markdown in knowledge/ -> chunks -> embeddings -> Chroma collection."""
