"""Small helpers every part of the project shares, and that know no app: the Hotmart headers and signatures,
the Redis client of the product's own keys. Everything else may import from here; this imports nothing of
the project's."""
