"""Ports chosen for the cluster's services and the tests' servers stay out of the range outgoing
connections take their local ports from (a cluster failed to start when a client connection took the
port chosen for a Rasa replica)."""
import socket

from scripts.ports import _ephemeral_start, free_port


def test_ports_are_below_the_ephemeral_range_distinct_and_bindable():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(port < _ephemeral_start() for port in ports)
    for port in ports[:5]:
        with socket.socket() as s:
            s.bind(("0.0.0.0", port))


def test_a_port_someone_listens_on_is_never_given(monkeypatch):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        choices = iter([taken, taken, 12345])
        monkeypatch.setattr("scripts.ports.random.randint", lambda low, high: next(choices))
        monkeypatch.setattr("scripts.ports._ephemeral_start", lambda: 65536)
        assert free_port() in (12345,)
