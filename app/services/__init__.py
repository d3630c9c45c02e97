"""The only place that queries or writes the database; every caller (API, CLI, seed) enters here.

The search module's flush hook, which keeps search documents in step with every record
write, is registered by the write path (app/services/writes.py imports it), so that a
command that writes no records (`policydb keys list`) need not load it.
"""
