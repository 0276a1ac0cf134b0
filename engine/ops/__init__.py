"""Operations: health and heartbeats, consistency checks, steering instances, moving them to a new version.

Used by process owners (pages and API) and by the command line; may import everything in `engine` except
`engine.views`.
"""
