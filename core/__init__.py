"""Shared by every process and both virtual environments (.venv/rasa and .venv/actions): the
database and its migrations, paths, the settings every process reads, the texts of domain.yml,
phone numbers and wine types. Imports nothing else of the project."""
