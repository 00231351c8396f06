"""Model clients: loading one from an import string (:mod:`.loading`), the protocol and a base class with the
boilerplate (:mod:`.protocol`), and the bundled local model (:mod:`.local`). Nothing here imports autogen."""
