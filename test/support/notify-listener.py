#!/usr/bin/python3
# systemd's side of sd_notify(3), for tests: binds a unix datagram socket at
# argv[1] and prints each message it receives as one JSON line, with the
# time it came, until killed.
import json, os, socket, sys, time

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print(json.dumps({"listening": path}), flush=True)
while True:
    data = sock.recv(4096)
    print(json.dumps({"at": time.time(), "message": data.decode()}), flush=True)
