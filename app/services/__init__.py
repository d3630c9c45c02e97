"""The only place that queries or writes the database; every caller (API, CLI, seed) enters here."""
