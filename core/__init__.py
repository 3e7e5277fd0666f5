"""Small helpers every app shares, with no dependency on any of them: how secrets are masked
(``core.secrets``) and which addresses a receiver may be on (``core.addresses``)."""
