"""Interoperability with other tools' file formats (NASLib / NAS-Bench-Suite-Zero)."""
