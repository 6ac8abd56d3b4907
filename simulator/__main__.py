"""Run the simulator with `python -m simulator`."""

from .cli import simulator_command

simulator_command(prog_name="python -m simulator")
