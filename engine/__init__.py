"""The delivery engine: claims due notifications in batches, keeps hundreds of POSTs in flight per worker
process on an event loop, saves attempts in batches. docs/architecture.md ("The engine") is the map."""
