"""Texts the winery starts, sent by the jobs process (venv B: httpx and the Commerce7 client).

settings.py (CAMPAIGN_* and Twilio), quiet.py (quiet hours in the winery's time zone), twilio_rest.py (the
Messages API: send, and list what was sent to a number), audience.py (a campaign's recipients from the
consent ledger and Commerce7), events.py (a Commerce7 webhook event -> the text it sends, from domain.yml),
sender.py (the durable queue worked through at a set rate, exactly once). Tables: core/outreach.py.
"""
