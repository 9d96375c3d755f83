"""The staff console: sign-in, the inbox over the tracker store, take over, give back.

Run by `make run` (scripts/run.py) as `python -m console` on CONSOLE_PORT (default 8090).
"""
