"""worklanes front ends: the Textual app and the `worklanes` command line.

Kept empty on purpose: `worklanes task list` must start without importing textual.
"""
