"""Throttling: how often one account or one address may do the costly things.

    limits.py       what is limited, counted per account or per address (django-ratelimit)
    responses.py    what a client over a limit gets: 429 with Retry-After, JSON or a page
    file_cache.py   the counters all workers of a machine share, in files (the default)
    redis_cache.py  the counters in Redis (REDIS_URL), failing open  # ASSIGNMENT 3

Log-in lock-out is django-axes' job (settings.py, "Throttling"); its counters live in
the same shared cache.
"""
