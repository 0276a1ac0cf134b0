"""The domain around the processes: campaigns, school files, missions, trainings and personal data.

Owns: opening and closing campaigns, a school's file as its people see it, the register of missions and their
early end, training sessions and who attended them, GDPR exports and anonymisation.
May import: `engine.models`, `engine.db`, the top-level engine modules, `engine.directory.lookups`; the runtime only
where a campaign action advances an instance (termination) or rewrites its state (anonymisation, through
`engine.runtime.store.write_state`).
"""
