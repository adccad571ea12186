"""Drives the unmodified PyPI clients `bepusdt` 0.3.15 and `epusdt` 0.4.0 for compat.test.js.

Usage: python compat_clients.py COMMAND  (a JSON object of arguments on stdin; one JSON answer on
stdout; a client exception is answered as {"error": class name, "message", "status_code"}).
"""
import json
import sys

from bepusdt import BEpusdtClient
from epusdt import EpusdtClient


def bepusdt_client(a):
    return BEpusdtClient(api_url=a["api_url"], api_token=a["token"], max_retries=0)


def epusdt_client(a):
    return EpusdtClient(base_url=a["base_url"], pid=a["pid"], secret_key=a["key"], max_retries=0)


def run(command, a):
    if command == "bepusdt-create":
        order = bepusdt_client(a).create_order(**a["order"])
        return {k: getattr(order, k) for k in ("trade_id", "order_id", "amount", "actual_amount", "token", "expiration_time", "payment_url")}
    if command == "bepusdt-query":
        order = bepusdt_client(a).query_order(a["trade_id"])
        return {"trade_id": order.trade_id, "status": int(order.status)}
    if command == "bepusdt-verify":
        # The callback as a panel's web framework hands it over: the JSON body, parsed.
        return {"verified": bepusdt_client(a).verify_callback(json.loads(a["body"]))}
    if command == "epay-create":
        made = epusdt_client(a).create_epay_order(method=a.get("method", "GET"), **a["order"])
        return {"status_code": made.status_code, "location": made.location, "params": made.params}
    if command == "epusdt-check-status":
        status = epusdt_client(a).check_status(a["trade_id"])
        return {"trade_id": status.trade_id, "status": int(status.status)}
    if command == "epay-verify":
        # The notify as PHP's $_GET would have it: the query string, decoded.
        from urllib.parse import parse_qsl, urlsplit
        params = dict(parse_qsl(urlsplit(a["url"]).query, keep_blank_values=True))
        parsed = epusdt_client(a).parse_epay_callback(params)
        return {"verified": True, "money": parsed.money, "trade_status": parsed.trade_status.value, "out_trade_no": parsed.out_trade_no, "pid": parsed.pid}
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    args = json.load(sys.stdin)
    try:
        answer = run(sys.argv[1], args)
    except Exception as error:  # the test asserts on the class and code, not on a traceback
        answer = {"error": type(error).__name__, "message": str(error), "status_code": getattr(error, "status_code", None) or getattr(error, "business_code", None)}
    print(json.dumps(answer, default=str))
