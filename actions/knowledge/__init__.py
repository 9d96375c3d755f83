"""Knowledge base: markdown in knowledge/ -> chunks -> Chroma index -> grounded answers."""
