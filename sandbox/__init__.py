"""The sandbox that `make run` starts: an embedded Redis, the demo producer (`seed_demo`), and web, workers and
beat in one terminal (`sandbox`)."""
