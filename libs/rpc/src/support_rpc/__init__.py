"""Request/reply over RabbitMQ: how the gateway asks a service, and how a service answers.

Wire format. Request: JSON ``{"type": <command type>, "command": {...}}`` with ``reply_to``,
``correlation_id`` and ``expiration`` (the caller's timeout: a request nobody took in time is
dropped, never executed late). Reply: ``{"ok": true, "result": {...}}`` or
``{"ok": false, "error": {"status": 409, "code": "...", "message": "..."}}``: a
``support_contracts.refusals.Refusal`` raised by the handler, raised again at the caller.
"""

from support_rpc.asking import Call, ask
from support_rpc.client import RpcClient, RpcTimeout, RpcUnavailable
from support_rpc.server import RpcServer

__all__ = ["Call", "RpcClient", "RpcServer", "RpcTimeout", "RpcUnavailable", "ask"]
