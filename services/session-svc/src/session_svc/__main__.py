"""``python -m session_svc``: run until SIGTERM or SIGINT, then stop cleanly."""

from service_runtime import serve
from session_svc.bootstrap import start
from session_svc.settings import Settings

if __name__ == "__main__":
    serve(lambda: start(Settings()))
