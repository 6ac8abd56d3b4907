"""Run a redemption in a BFF process that kills itself (-9) right after Osigu answers the given step.

Usage: python redeem_then_die.py SIMULATOR_URL DATABASE_URL HOST_APPS_JSON HOST_APP_ID CODE STEP
"""

import os
import signal
import sys

import bff
from bff import redemption as redemptions


def die_after(step):
    def hook(current, _redemption):
        if current == step:
            os.kill(os.getpid(), signal.SIGKILL)  # after Osigu acted, before the answer is recorded

    return hook


def main(simulator_url, database_url, host_apps, host_app_id, code, step):
    app = bff.create_app({
        "environ": {"OSIGU_ENV": "local", "OSIGU_BASE_URL": simulator_url, "BFF_SECRET_KEY": "test-key",
                    "BFF_HOST_APPS": host_apps},
        "SQLALCHEMY_DATABASE_URI": database_url, "OUTBOX_WORKER": False,
        "REDEMPTION_AFTER_UPSTREAM_CALL": die_after(step),
    })
    with app.app_context():
        redemption = redemptions.start(host_app_id, ("pharmacy", "queue-entry-1"), code)
        first = redemption.lines[0]
        redemptions.set_products(redemption, [{"product_code": first["product_code"], "quantity": 1}])
        redemptions.complete(redemption)
    sys.exit("the process was meant to die before this")


if __name__ == "__main__":
    main(*sys.argv[1:])
