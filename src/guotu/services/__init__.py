"""Use cases: import a layer, check quality, compute statistics, build the demo county.

CLI commands and HTTP handlers call these; each takes the store (and other ports) as
arguments and returns typed results.
"""
