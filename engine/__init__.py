"""Runtime of the campaign platform: process definitions, instances, tasks, directory.

Nothing here imports Flask: the web app, the CLI, workers and tests drive the
same code with an explicit SQLAlchemy session.
"""
