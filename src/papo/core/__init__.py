"""The chat core: what happens in the room, free of I/O.

It decides who receives what from who said what and the room's state, and
talks to the world only through the ports in `papo.core.ports`.
"""
