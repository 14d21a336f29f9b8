"""``python -m routing_svc``: run until SIGTERM or SIGINT, then stop cleanly."""

from routing_svc.bootstrap import start
from routing_svc.settings import Settings
from service_runtime import serve

if __name__ == "__main__":
    serve(lambda: start(Settings()))
