"""Helpers for tests, benchmarks, screenshots and the demo: a development Mosquitto,
a private Xvfb screen and a request/reply client of the queue service."""
