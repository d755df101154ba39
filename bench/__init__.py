"""Benchmarks that run against a dedicated PostgreSQL database (`make bench`).

`bench.generate` fills the database, `bench.client` measures pages over HTTP, and `bench.tickets`
runs the whole ticket benchmark: data at two sizes, gunicorn, the client, the targets.
"""
