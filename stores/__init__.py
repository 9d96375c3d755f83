"""Stores the Rasa server loads by module path from its endpoints (venv .venv/rasa)."""
