"""Quality checks (质检): the check list, the engine running it, and the attribute, geometry
and topology operators."""
