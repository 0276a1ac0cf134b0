"""The Isidoor directory and identities: structures, establishments, people, roles, accounts and tokens.

Owns: reading the directory as handlers and pages need it, importing Isidoor files, provisioning people at a
single sign-on login (and the differences it finds), local accounts, web sessions and their ends, API tokens, whom
to contact.
May import: `engine.models`, `engine.db` and the top-level engine modules; never `engine.runtime.runtime`.
"""
