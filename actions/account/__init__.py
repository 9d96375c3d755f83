"""Customer self-service (issue 23): a proven customer's own orders, club membership, details and points
history, and the changes they ask for. Nothing of an account is read for anyone who has not proven who
they are (actions/identity.py); they get the proof step (verify_form) and nothing else.

- owner.py: the proof gate every action here goes through, and what follows verify_form
- present.py: dates, money, masking, addresses in the customer's words (responses of domain.yml)
- orders.py: "where's my order?" and "my bottle arrived broken" (a hand-off with the order attached)
- club.py: the membership, its next shipment, the card link
- details.py: the email, phone and address on file (masked) and the points history
- change_form.py: account_change_form: a change read back, confirmed with a yes, written through the outbox
"""
