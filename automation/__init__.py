"""OfficeFlow: forms in, decisions and contracts out, registers kept current.

The package follows the flow of a submission: ``intake`` → ``identify`` →
``extract`` → ``validate`` → ``route`` → ``decide`` → ``act`` → ``record``.
``pipeline`` wires the stages; ``cli`` is a thin layer over the library.
"""

__version__ = "0.1.0"
