"""Everything that imports classic autogen: the import check (:mod:`.compat`), the recorder (:mod:`.recorder`),
rebuilding a live agent pair (:mod:`.replay`) and the seed's learning contract (:mod:`.update`)."""
