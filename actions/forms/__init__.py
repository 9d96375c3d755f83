"""Forms: club signup, mailing-list subscription (and their shared behaviour)."""
