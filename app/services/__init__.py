"""The only place that queries or writes the database; every caller (API, CLI, seed) enters here."""

# Importing the search module registers the flush hook that keeps search documents in step with
# every write, whichever service makes it.
from app.services import search as search
