"""The shared kernel: errors, audit trail, background jobs, time and money helpers.

Every package, including ``catalog`` and ``payments``, may import from here.
"""
