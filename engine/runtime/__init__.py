"""The BPMN runtime: deployed definitions, instances started and advanced, their state, tasks and timers.

Owns: deploying and versioning definitions (and staging them from the browser), starting and completing
instances with SpiffWorkflow, the restricted script engine, state (de)serialisation and compaction, the task
and timer tables, claims on work rows and the background worker, and the only module that touches
SpiffWorkflow internals (`spiff_internals`).
May import: `engine.models`, `engine.db`, the top-level engine modules (errors, access, forms, documents,
uploads, mail, french), `engine.directory.lookups` and `engine.campaign` for the handler context, and `handlers`.
"""
