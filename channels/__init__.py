"""Rasa-side channel code (runs in the Rasa server's venv, imported via credentials.yml)."""
