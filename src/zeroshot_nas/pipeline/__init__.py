"""The workflow's side of the package: the names derived from a configuration
(:mod:`.plan`) and the steps its rules run (:mod:`.steps`)."""
