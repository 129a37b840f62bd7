"""The law-enforcement report package: the exchange format between a platform and a case.

The platform writes it (`platform/reports.py`), a case workspace reads it as an exhibit
(`triage/le_report.py`); neither imports the other, both import this package.
"""
