// The few Linux syscalls Node's fs module lacks: mknod (devices, fifos,
// overlay whiteouts), extended attributes without following symlinks,
// syncfs, flock to keep one server per root, a readlink that answers
// "not a symlink" without the cost of a thrown error, and a pread that
// reads only what the page cache already holds. Each call is a single
// fast syscall, so they are synchronous; errors become JS errors carrying
// errno's code. The asynchronous calls are in write-file.c and disk-usage.c.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "disk-usage.h"
#include "remove-tree.h"
#include "addon-support.h"
#include "write-file.h"

#define NAME_BUF 256

static napi_value throw_errno(napi_env env, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, errno, syscall, path));
  return NULL;
}

static int get_string(napi_env env, napi_value value, char *buf, size_t size) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, buf, size, &length) != napi_ok || length >= size - 1) {
    napi_throw_type_error(env, NULL, "expected a string argument of reasonable length");
    return 0;
  }
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return 0;
  }
  return 1;
}

// mknod(path, mode, major, minor): mode carries the file type bits.
static napi_value Mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char path[PATH_BUF];
  bool raw;
  uint32_t mode, major, minor;
  if (!get_args(env, info, 4, argv) || !get_path(env, argv[0], path, &raw)) return NULL;
  napi_get_value_uint32(env, argv[1], &mode);
  napi_get_value_uint32(env, argv[2], &major);
  napi_get_value_uint32(env, argv[3], &minor);
  if (mknod(path, mode, makedev(major, minor)) != 0) return throw_errno(env, "mknod", path);
  return NULL;
}

// lsetxattr(path, name, value: Buffer)
static napi_value Lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char path[PATH_BUF], name[NAME_BUF];
  bool raw;
  void *data;
  size_t length;
  if (!get_args(env, info, 3, argv) || !get_path(env, argv[0], path, &raw) ||
      !get_string(env, argv[1], name, sizeof name))
    return NULL;
  if (napi_get_buffer_info(env, argv[2], &data, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "value must be a Buffer");
    return NULL;
  }
  if (lsetxattr(path, name, data, length, 0) != 0) return throw_errno(env, "lsetxattr", path);
  return NULL;
}

// lgetxattr(path, name) -> Buffer, or undefined when the attribute is absent.
static napi_value Lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  char path[PATH_BUF], name[NAME_BUF];
  bool raw;
  if (!get_args(env, info, 2, argv) || !get_path(env, argv[0], path, &raw) ||
      !get_string(env, argv[1], name, sizeof name))
    return NULL;
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) return NULL;
      return throw_errno(env, "lgetxattr", path);
    }
    void *data;
    napi_create_buffer(env, size, &data, &result);
    ssize_t got = lgetxattr(path, name, data, size);
    if (got == size) return result;
    if (got < 0 && errno != ERANGE) return throw_errno(env, "lgetxattr", path);
    // The attribute changed size between the two calls; ask again.
  }
}

// llistxattr(path) -> string[]
static napi_value Llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char path[PATH_BUF];
  bool raw;
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path, &raw)) return NULL;
  napi_create_array(env, &result);
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) return throw_errno(env, "llistxattr", path);
    // With a zero size llistxattr reports the size instead of filling the buffer.
    if (size == 0) return result;
    char *names = malloc(size);
    if (!names) return throw_errno(env, "malloc", path);
    ssize_t got = llistxattr(path, names, size);
    if (got < 0) {
      free(names);
      // The list grew between the two calls; ask again.
      if (errno == ERANGE) continue;
      return throw_errno(env, "llistxattr", path);
    }
    uint32_t index = 0;
    for (ssize_t at = 0; at < got; at += strlen(names + at) + 1) {
      napi_value name;
      napi_create_string_utf8(env, names + at, NAPI_AUTO_LENGTH, &name);
      napi_set_element(env, result, index++, name);
    }
    free(names);
    return result;
  }
}

// syncfs(path): flushes the whole filesystem holding path, once per layer.
static napi_value Syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[PATH_BUF];
  bool raw;
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path, &raw)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open", path);
  int rc = syncfs(fd);
  close(fd);
  if (rc != 0) return throw_errno(env, "syncfs", path);
  return NULL;
}

// lockExclusive(path) -> fd: an exclusive flock on path (created if needed),
// held until the process exits. Throws EAGAIN if another process has it.
static napi_value LockExclusive(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char path[PATH_BUF];
  bool raw;
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path, &raw)) return NULL;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return throw_errno(env, "open", path);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    napi_value error = throw_errno(env, "flock", path);
    close(fd);
    return error;
  }
  napi_create_int32(env, fd, &result);
  return result;
}

// readlinkIfSymlink(path) -> the link's target (a Buffer when path is one), or undefined when path is not
// a symlink or cannot be read: path resolution asks this of every component.
static napi_value ReadlinkIfSymlink(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char path[PATH_BUF], target[PATH_BUF];
  bool raw;
  if (!get_args(env, info, 1, argv) || !get_path(env, argv[0], path, &raw)) return NULL;
  ssize_t length = readlink(path, target, sizeof target);
  if (length < 0 || (size_t)length >= sizeof target) return NULL;
  // Asked with raw bytes, it answers in raw bytes.
  if (raw) {
    napi_create_buffer_copy(env, (size_t)length, target, NULL, &result);
  } else {
    napi_create_string_utf8(env, target, (size_t)length, &result);
  }
  return result;
}

// preadCached(fd, buffer, offset, length, position) -> bytes read, or -1 when
// none of them are in the page cache (or the filesystem cannot tell). A
// Content.Read of 512 bytes cost three thread-pool trips; when the blob is
// cached, as one just written or being unpacked is, this is a memcpy.
static napi_value PreadCached(napi_env env, napi_callback_info info) {
  napi_value argv[5], result;
  int32_t fd;
  uint32_t offset, length;
  int64_t position;
  void *data;
  size_t size;
  if (!get_args(env, info, 5, argv)) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok) {
    napi_throw_type_error(env, NULL, "buffer must be a Buffer");
    return NULL;
  }
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_uint32(env, argv[2], &offset);
  napi_get_value_uint32(env, argv[3], &length);
  napi_get_value_int64(env, argv[4], &position);
  if ((size_t)offset > size || length > size - offset || position < 0) {
    napi_throw_range_error(env, NULL, "the read does not fit the buffer");
    return NULL;
  }
  struct iovec iov = {.iov_base = (char *)data + offset, .iov_len = length};
  ssize_t got = preadv2(fd, &iov, 1, position, RWF_NOWAIT);
  if (got < 0) {
    if (errno != EAGAIN && errno != EOPNOTSUPP) return throw_errno(env, "preadv2", "");
    got = -1;
  }
  napi_create_int64(env, got, &result);
  return result;
}

// trimMallocAbove(bytes): glibc gives freed memory back to the system once
// this much is free at the top of a heap, and stops raising its mmap
// threshold. By default that threshold rises with every freed mmapped chunk
// (to 32 MiB at most), so a stream's freed 128 KiB buffers stay resident.
static napi_value TrimMallocAbove(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint32_t bytes;
  if (!get_args(env, info, 1, argv)) return NULL;
  napi_get_value_uint32(env, argv[0], &bytes);
  if (mallopt(M_TRIM_THRESHOLD, (int)bytes) != 1) {
    napi_throw_error(env, NULL, "mallopt(M_TRIM_THRESHOLD) failed");
  }
  return NULL;
}

// notifySocket(address, message): one datagram to systemd's $NOTIFY_SOCKET
// (sd_notify(3)'s protocol: "READY=1", "STOPPING=1"). Node's dgram has no
// unix datagram sockets. An address starting with "@" is in the abstract
// namespace, as systemd documents.
static napi_value NotifySocket(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 1], message[4096];
  size_t address_length, message_length;
  if (!get_args(env, info, 2, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], message, sizeof message, &message_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "address and message must be strings");
    return NULL;
  }
  struct sockaddr_un target = {.sun_family = AF_UNIX};
  if (address_length == 0 || address_length > sizeof target.sun_path || (address[0] != '/' && address[0] != '@')) {
    napi_throw_range_error(env, NULL, "NOTIFY_SOCKET must be an absolute path or start with @");
    return NULL;
  }
  memcpy(target.sun_path, address, address_length);
  if (address[0] == '@') target.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", address);
  socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + address_length);
  ssize_t sent = sendto(fd, message, message_length, MSG_NOSIGNAL, (struct sockaddr *)&target, length);
  int saved = errno;
  close(fd);
  errno = saved;
  if (sent < 0) return throw_errno(env, "sendto", address);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mknod", NULL, Mknod, NULL, NULL, NULL, napi_default, NULL},
    {"lsetxattr", NULL, Lsetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lgetxattr", NULL, Lgetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"llistxattr", NULL, Llistxattr, NULL, NULL, NULL, napi_default, NULL},
    {"syncfs", NULL, Syncfs, NULL, NULL, NULL, napi_default, NULL},
    {"lockExclusive", NULL, LockExclusive, NULL, NULL, NULL, napi_default, NULL},
    {"readlinkIfSymlink", NULL, ReadlinkIfSymlink, NULL, NULL, NULL, napi_default, NULL},
    {"preadCached", NULL, PreadCached, NULL, NULL, NULL, napi_default, NULL},
    {"trimMallocAbove", NULL, TrimMallocAbove, NULL, NULL, NULL, napi_default, NULL},
    {"notifySocket", NULL, NotifySocket, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  register_write_file(env, exports);
  register_disk_usage(env, exports);
  register_remove_tree(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
