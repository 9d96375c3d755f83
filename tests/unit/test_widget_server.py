"""The widget page server (scripts/serve_widget.py): static files and /config.js, nothing else."""
from __future__ import annotations

import threading

import pytest
import requests

from scripts.serve_widget import make_server


@pytest.fixture
def widget():
    server = make_server("127.0.0.1", 0, "http://localhost:5005")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_and_its_config_are_served(widget):
    config = requests.get(f"{widget}/config.js", timeout=5)
    assert config.status_code == 200 and '"serverUrl": "http://localhost:5005"' in config.text
    assert requests.get(f"{widget}/index.html", timeout=5).status_code == 200


def test_private_files_and_posts_are_refused_with_a_4xx(widget):
    assert requests.get(f"{widget}/package.json", timeout=5).status_code == 404
    # votes go to the Rasa server (channels/votes.py); an old page posting here gets a clear 4xx
    assert requests.post(f"{widget}/feedback", json={"vote": "up"}, timeout=5).status_code == 405
