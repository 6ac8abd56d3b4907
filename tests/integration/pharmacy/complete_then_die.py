"""Complete a queue entry in a BFF process that kills itself (-9) right after Osigu answers the given step.

Usage: python complete_then_die.py SIMULATOR_URL DATABASE_URL HOST_APPS_JSON ENTRY_ID STEP
"""

import os
import signal
import sys

import bff
from bff.pharmacy import completion, queue

PHARMACIST = {"id": "ph-1", "name": "Pharmacist ph-1", "role": "PHARMACIST"}


def die_after(step):
    def hook(current, _redemption):
        if current == step:
            os.kill(os.getpid(), signal.SIGKILL)  # after Osigu acted, before the answer is recorded

    return hook


def main(simulator_url, database_url, host_apps, entry_id, step):
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "test-key",
                    "BFF_HOST_APPS": host_apps},
        "SQLALCHEMY_DATABASE_URI": database_url, "OUTBOX_WORKER": False, "RETENTION_WORKER": False,
        "REDEMPTION_AFTER_UPSTREAM_CALL": die_after(step),
    })
    with app.app_context():
        completion.complete(queue.Actor(PHARMACIST, "his-a", "demo-hospital"), entry_id, "Counselled", True)
    sys.exit("the process was meant to die before this")


if __name__ == "__main__":
    main(*sys.argv[1:])
