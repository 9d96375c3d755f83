"""Container health check: `python -m scripts.healthcheck URL` exits 0 when the service answers.

http(s)://...  any answer below 500 (certificates are not checked: this runs on the service's own host)
tcp://host:port  the port accepts a connection
Standard library only, so it runs in every image of the project.
"""
from __future__ import annotations

import socket
import ssl
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def healthy(url: str, timeout: float = 4.0) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=timeout).close()
            return True
        except OSError:
            return False
    context = ssl._create_unverified_context() if parts.scheme == "https" else None
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m scripts.healthcheck URL")
    sys.exit(0 if healthy(sys.argv[1]) else 1)
