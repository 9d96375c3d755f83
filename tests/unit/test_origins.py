"""The pages allowed to talk to the assistant: one list for Rasa's CORS and socket.io's origin check."""
from channels.origins import widget_origins


def test_default_is_the_widget_page_of_make_run():
    assert widget_origins({"WIDGET_PORT": "8123"}) == ["http://localhost:8123", "http://127.0.0.1:8123"]


def test_configured_origins_replace_the_default_and_the_public_url_page_is_added_once():
    env = {"WIDGET_ORIGINS": "https://mileaestatevineyard.com https://chat.example.com",
           "PUBLIC_URL": "https://chat.example.com/some/path"}
    assert widget_origins(env) == ["https://mileaestatevineyard.com", "https://chat.example.com"]
    assert widget_origins({"WIDGET_ORIGINS": "https://a.example", "PUBLIC_URL": "https://localhost:5443"}) == [
        "https://a.example", "https://localhost:5443"]


def test_a_public_url_that_is_not_a_web_address_adds_nothing():
    assert widget_origins({"WIDGET_ORIGINS": "https://a.example", "PUBLIC_URL": "javascript:alert(1)"}) == [
        "https://a.example"]
