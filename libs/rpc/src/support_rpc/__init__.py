"""Request/reply over RabbitMQ: how the gateway asks a service, and how a service answers.

Wire format. Request: JSON ``{"type": <command type>, "command": {...}}`` with ``reply_to``,
``correlation_id`` and ``expiration`` (the caller's timeout: a request nobody took in time is
dropped, never executed late). Reply: ``{"ok": true, "result": {...}}`` or
``{"ok": false, "error": {"status": 409, "code": "...", "message": "..."}}``.
"""

from support_rpc.client import RemoteError, RpcClient, RpcTimeout, RpcUnavailable
from support_rpc.server import Failure, RpcServer

__all__ = ["Failure", "RemoteError", "RpcClient", "RpcServer", "RpcTimeout", "RpcUnavailable"]
