#!/usr/bin/python3
"""The real Python OSProfiler, driven from the interop tests.

  peer.py unpack INFO HMAC KEY     -> JSON of osprofiler._utils.signed_unpack (or null)
  peer.py pack JSON KEY            -> X-Trace-Info and X-Trace-HMAC, one per line
  peer.py report FILE              -> Python's report (drivers.base) of a JSON-lines file
  peer.py emit FILE KEY            -> runs a traced Python workload writing JSON lines to FILE;
                                      prints its base_id
  peer.py middleware INFO HMAC KEYS -> what WsgiMiddleware makes of the headers (JSON or null)
"""
import json
import sys

from osprofiler import _utils, profiler, notifier
from osprofiler.drivers import base


def cmd_unpack(info, hmac, key):
    print(json.dumps(_utils.signed_unpack(info, hmac, _utils.split(key))))


def cmd_pack(data, key):
    info, mac = _utils.signed_pack(json.loads(data), key)
    print(info.decode() if isinstance(info, bytes) else info)
    print(mac)


def cmd_report(path):
    driver = base.Driver("interop://")
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            n = json.loads(line)
            raw = {k: v for k, v in n.items() if k not in ("base_id", "parent_id", "trace_id")}
            driver._append_results(n["trace_id"], n["parent_id"], n["name"], n.get("project"),
                                   n.get("service"), n["info"].get("host"), n["timestamp"], raw)
    print(json.dumps(driver._parse_results()))


def cmd_emit(path, key):
    out = open(path, "w")
    notifier.set(lambda info: out.write(json.dumps(info) + "\n"))
    p = profiler.init(key)
    with profiler.Trace("wsgi", info={"request": {"path": "/servers", "method": "GET"}}):
        for i in range(3):
            with profiler.Trace("db", info={"db": {"statement": "SELECT %d" % i, "params": {}}}):
                pass
        try:
            with profiler.Trace("rpc", info={"function": {"name": "boom"}}):
                raise ValueError("no quota")
        except ValueError:
            pass
    out.close()
    print(p.get_base_id())


def cmd_middleware(info, hmac, keys):
    from osprofiler import web
    mw = web.WsgiMiddleware(None, hmac_keys=keys, enabled=True)
    data = _utils.signed_unpack(info, hmac, mw.hmac_keys)
    print(json.dumps(data if mw._trace_is_valid(data) else None))


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
