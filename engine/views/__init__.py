"""Read models for pages and the API: inboxes, home pages, dossiers, history, diagrams and monitoring.

Queries only: nothing here writes. Each module answers one page or list in a bounded number of statements.
May import: everything in `engine` except `engine.ops`.
"""
