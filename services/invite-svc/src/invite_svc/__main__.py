"""``python -m invite_svc``: run until SIGTERM or SIGINT, then stop cleanly."""

from invite_svc.bootstrap import start
from invite_svc.settings import Settings
from service_runtime import serve

if __name__ == "__main__":
    serve(lambda: start(Settings()))
