"""The central exchange across agencies (issue 11): hash-only records, queries, changes,
series links and signed lists (docs/exchange-api.md). `client.py` is the workspace side."""
