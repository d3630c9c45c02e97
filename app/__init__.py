"""policydb: a structured, cited database of public policy."""
