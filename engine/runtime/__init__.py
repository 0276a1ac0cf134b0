"""The BPMN runtime: deployed definitions, instances started and advanced, their state, tasks and timers.

Owns: deploying and versioning definitions (and staging them from the browser), starting and completing
instances with SpiffWorkflow (`runtime`), loading and saving them (`store`: the optimistic claim, the state row,
task and timer rows, audit events, the workflow cache), what handlers receive (`handler_context`), the
restricted script engine, state (de)serialisation and compaction, claims on work rows and the background
worker, and the only module that touches SpiffWorkflow internals (`spiff_internals`).
May import: `engine.models`, `engine.db`, the top-level engine modules (errors, access, forms, documents,
uploads, mail, prepared, french), `engine.directory.lookups` and `engine.campaign` for the handler context,
and `handlers`.
"""
