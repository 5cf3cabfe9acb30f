#!/usr/bin/env python3
"""The benchmark's application: inserts ids one at a time into test.t on whichever
lab server accepts them, and records every ACKNOWLEDGED insert.

It connects as the non-admin application user (app@198.18.0.%, INSERT/SELECT on
test.*), so read_only=1 applies to it (hauser has SUPER / READ ONLY ADMIN and would
bypass read_only on MariaDB). Hosts are tried in order; a host that refuses
(read-only, connection error, timeout) makes the writer move to the next one.

Output (one line per acknowledged id, flushed as written):
    <id> <host> <time.monotonic()>
time.monotonic() is CLOCK_MONOTONIC, comparable with the bench driver's clock.
Stops on SIGTERM / SIGINT.
"""
import argparse
import signal
import sys
import time

import pymysql

ER_DUP_ENTRY = 1062

stop = False


def on_signal(_sig, _frame):
    global stop
    stop = True


def connect(host, args):
    try:
        return pymysql.connect(
            host=host,
            port=3306,
            user=args.user,
            password=args.password,
            database="test",
            autocommit=True,
            connect_timeout=args.connect_timeout,
            read_timeout=args.timeout,
            write_timeout=args.timeout,
        )
    except Exception:
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hosts", required=True, help="comma-separated, tried in order")
    p.add_argument("--out", required=True)
    p.add_argument("--first-id", type=int, default=1)
    p.add_argument("--user", default="app")
    p.add_argument("--password", default="apppass")
    p.add_argument("--connect-timeout", type=float, default=0.2,
                   help="connect timeout in seconds (a healthy lab host answers in ms)")
    p.add_argument("--timeout", type=float, default=1.0,
                   help="read/write timeout in seconds")
    p.add_argument("--pause", type=float, default=0.002,
                   help="pause after each acknowledged insert (default 2 ms: ~400 rows/s)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    hosts = args.hosts.split(",")
    out = open(args.out, "w", buffering=1)
    conns = {}
    idx = 0
    nid = args.first_id
    failed_round = 0
    while not stop:
        host = hosts[idx]
        conn = conns.get(host)
        if conn is None:
            conn = connect(host, args)
            if conn is None:
                idx = (idx + 1) % len(hosts)
                failed_round += 1
                if failed_round >= len(hosts):
                    failed_round = 0
                    time.sleep(0.01)
                continue
            conns[host] = conn
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO test.t (id, v) VALUES (%s, %s)", (nid, f"row {nid}"))
            out.write(f"{nid} {host} {time.monotonic():.6f}\n")
            nid += 1
            failed_round = 0
            if args.pause > 0:
                time.sleep(args.pause)
            continue
        except pymysql.err.MySQLError as e:
            code = e.args[0] if e.args and isinstance(e.args[0], int) else 0
            if code == ER_DUP_ENTRY:
                # An earlier attempt committed without an acknowledgement: not counted.
                nid += 1
                continue
            # Server errors (1290 read-only, ...) leave the connection usable;
            # client-side errors (2003, 2013, timeouts, ...) do not.
            keep = 0 < code < 2000
        except Exception:
            keep = False
        if not keep:
            try:
                conn.close()
            except Exception:
                pass
            conns.pop(host, None)
        idx = (idx + 1) % len(hosts)
        failed_round += 1
        if failed_round >= len(hosts):
            failed_round = 0
            time.sleep(0.01)
    out.close()
    for c in conns.values():
        try:
            c.close()
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main())
