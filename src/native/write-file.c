// writeFile(path, data, mode, uid, gid, atime, mtime) -> Promise: creates a
// regular file from a layer (it must not exist), writes it, and sets its
// owner, mode and times, all in one trip to libuv's thread pool. Done with
// Node's fs this is six trips per file, and a layer can hold 100,000 files.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addon-support.h"
#include "write-file.h"

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  char *path;
  const char *data;
  size_t length;
  uint32_t mode, uid, gid;
  struct timespec times[2];
  int err;
  const char *syscall;
} write_job;

static struct timespec to_timespec(double seconds) {
  double whole = floor(seconds);
  struct timespec ts = {(time_t)whole, (long)((seconds - whole) * 1e9)};
  if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
  return ts;
}

static int fail(write_job *job, const char *syscall) {
  job->err = errno;
  job->syscall = syscall;
  return -1;
}

static int write_all(write_job *job, int fd) {
  size_t done = 0;
  while (done < job->length) {
    ssize_t n = write(fd, job->data + done, job->length - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(job, "write");
    }
    done += (size_t)n;
  }
  return 0;
}

// chown clears setuid and setgid, so the mode is set after it.
static void set_attributes(write_job *job, int fd) {
  if (fchown(fd, job->uid, job->gid) != 0) {
    fail(job, "fchown");
  } else if (fchmod(fd, job->mode & 07777) != 0) {
    fail(job, "fchmod");
  } else if (futimens(fd, job->times) != 0) {
    fail(job, "futimens");
  }
}

static void execute(napi_env env, void *arg) {
  (void)env;
  write_job *job = arg;
  // O_EXCL: the applier has removed what was there, so anything found now
  // (a symlink planted in a race, say) is refused rather than followed.
  int fd = open(job->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, job->mode & 07777);
  if (fd < 0) {
    fail(job, "open");
    return;
  }
  if (write_all(job, fd) == 0) set_attributes(job, fd);
  if (close(fd) != 0 && job->err == 0) fail(job, "close");
}

static void complete(napi_env env, napi_status status, void *arg) {
  write_job *job = arg;
  if (status != napi_ok && job->err == 0) {
    job->err = ECANCELED;
    job->syscall = "writeFile";
  }
  if (job->err == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, job->err, job->syscall, job->path));
  }
  napi_delete_reference(env, job->data_ref);
  napi_delete_async_work(env, job->work);
  free(job->path);
  free(job);
}

static napi_value WriteFile(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "writeFile(path, data, mode, uid, gid, atime, mtime)");
    return NULL;
  }
  size_t path_length;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &path_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "path must be a string");
    return NULL;
  }
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "data must be a Buffer");
    return NULL;
  }
  write_job *job = calloc(1, sizeof *job);
  job->path = malloc(path_length + 1);
  napi_get_value_string_utf8(env, argv[0], job->path, path_length + 1, &path_length);
  job->data = data;
  job->length = length;
  double atime, mtime;
  napi_get_value_uint32(env, argv[2], &job->mode);
  napi_get_value_uint32(env, argv[3], &job->uid);
  napi_get_value_uint32(env, argv[4], &job->gid);
  napi_get_value_double(env, argv[5], &atime);
  napi_get_value_double(env, argv[6], &mtime);
  job->times[0] = to_timespec(atime);
  job->times[1] = to_timespec(mtime);
  // The buffer must outlive the write: the reference keeps it from the collector.
  napi_create_reference(env, argv[1], 1, &job->data_ref);
  return queue_job(env, "strata.writeFile", execute, complete, job, &job->work, &job->deferred);
}

void register_write_file(napi_env env, napi_value exports) {
  export_function(env, exports, "writeFile", WriteFile);
}
