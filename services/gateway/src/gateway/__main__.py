"""``python -m gateway``: run until SIGTERM or SIGINT, then stop cleanly."""

from gateway.bootstrap import start
from gateway.settings import Settings
from service_runtime import serve

if __name__ == "__main__":
    serve(lambda: start(Settings()))
