"""The demonstration: the directory and campaigns `make run` loads, and the story that puts a real day in it.

`directory` loads structures, schools, people and their accounts; `story` plays the campaigns through the real
processes up to today (`cast` names its schools and people, `dates` places its missions in the year, `plan` shapes
its projects and the recruitment calendar, `timeline` plays the events in order).
May import everything in `engine`; nothing in `engine` imports it but the command line and the scenarios' world.
"""
