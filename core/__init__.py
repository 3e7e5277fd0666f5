"""Small helpers every part of the project shares, and that know no app: the Hotmart headers and signatures
(``core.hotmart``), how secrets are masked wherever they are shown or logged (``core.secrets``), which addresses
a receiver may be on (``core.addresses``), the client's address behind trusted proxies (``core.proxies``),
numbers and documents typed by people (``core.numbers``, ``core.documents``), the commands' kit (``core.cli``)
and the Redis client of the product's own keys. Everything else may import from here; this imports nothing of
the project's."""
