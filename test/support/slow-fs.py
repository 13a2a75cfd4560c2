#!/usr/bin/python3
"""A slow disk for tests: a FUSE passthrough of BACKING at MOUNTPOINT whose
every write takes at least DELAY_MS. Everything else (modes, owners, times,
links, devices, xattrs) passes straight through, so an apply onto it gives the
same tree as onto the backing directory itself.

Usage: slow-fs.py BACKING MOUNTPOINT DELAY_MS  (runs in the foreground until unmounted)
"""
import errno
import os
import sys
import time

from fusepy import FUSE, FuseOSError, Operations


class SlowPassthrough(Operations):
    def __init__(self, backing, delay):
        self.backing = backing
        self.delay = delay

    def _path(self, path):
        return os.path.join(self.backing, path.lstrip('/'))

    def __call__(self, op, path, *args):
        try:
            return super().__call__(op, path, *args)
        except OSError as err:
            raise FuseOSError(err.errno or errno.EIO)

    def access(self, path, mode):
        if not os.access(self._path(path), mode, follow_symlinks=False):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        keys = ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_rdev', 'st_ino',
                'st_atime', 'st_mtime', 'st_ctime')
        attrs = {key: getattr(st, key) for key in keys}
        # Nanosecond times, so that what was set is what reads back.
        attrs.update(st_atime=st.st_atime_ns / 1e9, st_mtime=st.st_mtime_ns / 1e9, st_ctime=st.st_ctime_ns / 1e9)
        return attrs

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._path(path))

    def readlink(self, path):
        return os.readlink(self._path(path))

    def mknod(self, path, mode, dev):
        os.mknod(self._path(path), mode, dev)

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def unlink(self, path):
        os.unlink(self._path(path))

    def symlink(self, target, source):
        os.symlink(source, self._path(target))

    def link(self, target, source):
        os.link(self._path(source), self._path(target))

    def rename(self, old, new):
        os.rename(self._path(old), self._path(new))

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid, follow_symlinks=False)

    def utimens(self, path, times=None):
        ns = None if times is None else tuple(int(t * 1e9) for t in times)
        os.utime(self._path(path), ns=ns, follow_symlinks=False)

    def truncate(self, path, length, fh=None):
        os.truncate(self._path(path), length)

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        keys = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag',
                'f_frsize', 'f_namemax')
        return {key: getattr(st, key) for key in keys}

    def getxattr(self, path, name, position=0):
        try:
            return os.getxattr(self._path(path), name, follow_symlinks=False)
        except OSError as err:
            raise FuseOSError(err.errno)

    def listxattr(self, path):
        return os.listxattr(self._path(path), follow_symlinks=False)

    def setxattr(self, path, name, value, options, position=0):
        os.setxattr(self._path(path), name, value, options, follow_symlinks=False)

    def removexattr(self, path, name):
        os.removexattr(self._path(path), name, follow_symlinks=False)

    def open(self, path, flags):
        return os.open(self._path(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        time.sleep(self.delay)
        return os.pwrite(fh, data, offset)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        os.fsync(fh)


def main():
    backing, mountpoint, delay_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    FUSE(SlowPassthrough(os.path.realpath(backing), delay_ms / 1000), mountpoint,
         foreground=True, nothreads=False, use_ino=True, default_permissions=False)


if __name__ == '__main__':
    main()
