# How many times secretwrap's file provider has read one file (the watch bench's cycle counter for
# `ref+file://`, which logs nothing per check): inotify IN_CLOSE_NOWRITE events on a directory, one
# per read-only open closed. A directory watch, not a file watch: inotify merges an event identical to
# the last unread one, and with every file of the directory read in turn two events for the same name
# are never adjacent. Prints `ready`, then the running count for NAME after every batch of events.
#   python3 bench/count-reads.py DIR NAME
import ctypes
import os
import struct
import sys

IN_CLOSE_NOWRITE = 0x10
libc = ctypes.CDLL("libc.so.6", use_errno=True)
directory, name = sys.argv[1], sys.argv[2].encode()
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, directory.encode(), IN_CLOSE_NOWRITE) < 0:
    sys.exit(f"inotify failed: errno {ctypes.get_errno()}")
print("ready", flush=True)
count = 0
while True:
    buf = os.read(fd, 1 << 16)
    i = 0
    while i < len(buf):
        _wd, mask, _cookie, length = struct.unpack_from("iIII", buf, i)
        event_name = buf[i + 16 : i + 16 + length].rstrip(b"\0")
        i += 16 + length
        if mask & IN_CLOSE_NOWRITE and event_name == name:
            count += 1
    sys.stdout.write(f"{count}\n")
    sys.stdout.flush()
