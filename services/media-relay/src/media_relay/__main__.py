"""``python -m media_relay``: run until SIGTERM or SIGINT, then stop cleanly."""

from media_relay.bootstrap import start
from media_relay.settings import Settings
from service_runtime import serve

if __name__ == "__main__":
    serve(lambda: start(Settings()))
