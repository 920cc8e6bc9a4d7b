"""BankWatch benchmarks (`python manage.py bench`, `make bench`): docs/benchmarks.md.

A plain package: every measurement that needs one core to itself runs in a child process
(`benchmarks.child`) pinned to that core with one inference thread; the command gathers
the results, prints them as JSON and writes docs/benchmarks.md and docs/benchmarks.png.
"""
