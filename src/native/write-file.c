// writeFiles([[path, data, mode, uid, gid, atime, mtime], ...]) -> Promise of
// one error (or undefined) per file: creates regular files from a layer (none
// may exist), writes them, and sets their owners, modes and times, in order,
// all in one trip to libuv's thread pool. Done with Node's fs this is six
// trips per file, and a layer can hold 100,000 files. Queueing a trip costs
// the JS thread about 25 us (a thread's wake-up), so files go in batches.
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

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  uint32_t count;
  write_job *jobs;
} write_batch;

static void write_one(write_job *job) {
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

static void execute(napi_env env, void *arg) {
  (void)env;
  write_batch *batch = arg;
  for (uint32_t i = 0; i < batch->count; i++) write_one(&batch->jobs[i]);
}

static void complete(napi_env env, napi_status status, void *arg) {
  write_batch *batch = arg;
  napi_value results;
  napi_create_array_with_length(env, batch->count, &results);
  for (uint32_t i = 0; i < batch->count; i++) {
    write_job *job = &batch->jobs[i];
    if (status != napi_ok && job->err == 0) {
      job->err = ECANCELED;
      job->syscall = "writeFiles";
    }
    napi_value result;
    if (job->err == 0) napi_get_undefined(env, &result);
    else result = errno_error(env, job->err, job->syscall, job->path);
    napi_set_element(env, results, i, result);
    napi_delete_reference(env, job->data_ref);
    free(job->path);
  }
  napi_resolve_deferred(env, batch->deferred, results);
  napi_delete_async_work(env, batch->work);
  free(batch->jobs);
  free(batch);
}

// Reads [path, data, mode, uid, gid, atime, mtime] into job; 0 (with a
// pending exception) when it is not that shape.
static int read_job(napi_env env, napi_value file, write_job *job) {
  napi_value argv[7];
  for (uint32_t i = 0; i < 7; i++) {
    if (napi_get_element(env, file, i, &argv[i]) != napi_ok) return 0;
  }
  char path[PATH_BUF];
  bool raw;
  void *data;
  if (!get_path(env, argv[0], path, &raw)) return 0;
  if (napi_get_buffer_info(env, argv[1], &data, &job->length) != napi_ok) {
    napi_throw_type_error(env, NULL, "each file is [path: string | Buffer, data: Buffer, mode, uid, gid, atime, mtime]");
    return 0;
  }
  job->path = strdup(path);
  job->data = data;
  double atime, mtime;
  napi_get_value_uint32(env, argv[2], &job->mode);
  napi_get_value_uint32(env, argv[3], &job->uid);
  napi_get_value_uint32(env, argv[4], &job->gid);
  napi_get_value_double(env, argv[5], &atime);
  napi_get_value_double(env, argv[6], &mtime);
  job->times[0] = to_timespec(atime);
  job->times[1] = to_timespec(mtime);
  // The Buffer stays alive until the thread pool is done with its bytes.
  napi_create_reference(env, argv[1], 1, &job->data_ref);
  return 1;
}

static napi_value WriteFiles(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value files;
  uint32_t count;
  bool is_array = false;
  napi_get_cb_info(env, info, &argc, &files, NULL, NULL);
  if (argc < 1 || napi_is_array(env, files, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, files, &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "writeFiles(files: [path, data, mode, uid, gid, atime, mtime][])");
    return NULL;
  }
  write_batch *batch = calloc(1, sizeof *batch);
  batch->jobs = calloc(count > 0 ? count : 1, sizeof *batch->jobs);
  for (uint32_t i = 0; i < count; i++) {
    napi_value file;
    napi_get_element(env, files, i, &file);
    if (!read_job(env, file, &batch->jobs[i])) {
      for (uint32_t j = 0; j < batch->count; j++) {
        napi_delete_reference(env, batch->jobs[j].data_ref);
        free(batch->jobs[j].path);
      }
      free(batch->jobs);
      free(batch);
      return NULL;
    }
    batch->count = i + 1;
  }
  return queue_job(env, "strata.writeFiles", execute, complete, batch, &batch->work, &batch->deferred);
}

void register_write_file(napi_env env, napi_value exports) {
  export_function(env, exports, "writeFiles", WriteFiles);
}
