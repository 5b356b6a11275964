"""The N-tier stack on one machine (`scripts/stack`): nginx as load balancer and proxy
cache in front of N gunicorn app servers, each confined to its own CPU and memory share,
with a shared Redis, PostgreSQL+PostGIS, SeaweedFS S3 and an nginx CDN, all on loopback.

    scripts/stack up --app-servers 2 --cpu 0.5 --memory 1g   # prints the base URL
    scripts/stack status --json                               # each part: role, URL, PIDs
    scripts/stack manage create_api_token alice               # manage.py against the stack
    scripts/stack stop postgres; scripts/stack start postgres # an outage of one part
    scripts/stack down

supervisor.py owns the running servers (tooling/servers, the tests' own); commands.py is
the command line; state.py the JSON file they share; cgroups.py the CPU/memory shares.
"""
