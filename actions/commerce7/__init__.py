"""The action server's side of Commerce7: one client per event loop and the live catalog cache.

The client, its models and errors, the outbox and the catalog sync are shared with the jobs process
(core/commerce7/)."""
